// helm-render renders a Helm chart's templates the way `helm template` does, for tests on machines
// without a helm binary (none comes from npm or Debian). It uses the engine Helm uses: Go's
// text/template with the sprig function library (Debian: golang-github-masterminds-sprig-dev),
// and adds the functions Helm adds (include, tpl, required, toYaml, fromYaml, toJson, fromJson,
// lookup), Helm's value handling (chart values, then each -f file merged over them, a null
// removing a key; numbers as float64, as Helm's YAML-through-JSON parsing leaves them) and Helm's
// built-in objects (.Values, .Release, .Chart, .Capabilities, .Template).
//
// Not covered: subcharts, .Files, values.schema.json, hooks (none of which the Shoal chart uses).
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o helm-render test/helm-render/main.go
//	helm-render CHART_DIR RELEASE NAMESPACE [VALUES_FILE...]   > manifests.yaml
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml2 "gopkg.in/yaml.v2"
	yaml3 "gopkg.in/yaml.v3"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: helm-render CHART_DIR RELEASE NAMESPACE [VALUES_FILE...]")
		os.Exit(2)
	}
	out, err := render(os.Args[1], os.Args[2], os.Args[3], os.Args[4:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(out)
}

// readYAML reads a YAML mapping the way Helm does (sigs.k8s.io/yaml: YAML to JSON, then JSON to Go),
// so numbers are float64 and maps map[string]interface{}.
func readYAML(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw interface{}
	if err := yaml3.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	j, err := json.Marshal(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var out map[string]interface{}
	if err := json.Unmarshal(j, &out); err != nil {
		return nil, fmt.Errorf("%s: not a mapping: %v", path, err)
	}
	return out, nil
}

// merge lays src over dst as `helm -f` does: maps merge key by key, anything else replaces, and
// a null removes the key.
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		sv, sok := v.(map[string]interface{})
		dv, dok := dst[k].(map[string]interface{})
		if sok && dok {
			dst[k] = merge(dv, sv)
		} else {
			dst[k] = v
		}
	}
	return dst
}

// toYAML is Helm's toYaml: sigs.k8s.io/yaml.Marshal (through JSON, so keys sorted), no final newline.
func toYAML(v interface{}) string {
	j, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var ordered yaml2.MapSlice
	var out []byte
	if err := yaml2.Unmarshal(j, &ordered); err == nil && len(j) > 0 && j[0] == '{' {
		out, err = yaml2.Marshal(ordered)
		if err != nil {
			return ""
		}
	} else {
		var any interface{}
		if err := yaml2.Unmarshal(j, &any); err != nil {
			return ""
		}
		out, _ = yaml2.Marshal(any)
	}
	return strings.TrimSuffix(string(out), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	var raw interface{}
	if err := yaml3.Unmarshal([]byte(s), &raw); err != nil {
		m["Error"] = err.Error()
		return m
	}
	j, _ := json.Marshal(raw)
	_ = json.Unmarshal(j, &m)
	return m
}

func render(chartDir, release, namespace string, valueFiles []string) (string, error) {
	meta, err := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	chartName, _ := meta["name"].(string)
	if chartName == "" {
		return "", errors.New("Chart.yaml has no name")
	}
	values, err := readYAML(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, f := range valueFiles {
		over, err := readYAML(f)
		if err != nil {
			return "", err
		}
		values = merge(values, over)
	}

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	t := template.New(chartName)
	funcs := sprig.TxtFuncMap()
	// Helm removes these: a chart must render the same on every machine.
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = fromYAML
	funcs["toJson"] = func(v interface{}) string { j, _ := json.Marshal(v); return string(j) }
	funcs["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["required"] = func(warn string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(warn)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(warn)
		}
		return v, nil
	}
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		parsed, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = parsed.Execute(&buf, data)
		return strings.ReplaceAll(buf.String(), "<no value>", ""), err
	}
	t.Funcs(funcs).Option("missingkey=zero")

	var names []string
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		name := chartName + "/templates/" + filepath.Base(f)
		if _, err := t.New(name).Parse(string(text)); err != nil {
			return "", err
		}
		names = append(names, name)
	}

	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": release, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": map[string]interface{}{
			"Name": chartName, "Version": meta["version"], "AppVersion": meta["appVersion"],
			"Description": meta["description"], "Type": meta["type"], "KubeVersion": meta["kubeVersion"],
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.33.0", "Major": "1", "Minor": "33", "GitVersion": "v1.33.0"},
		},
	}
	var out strings.Builder
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		top["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, top); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		// NOTES.txt is shown after an install, not applied.
		if base == "NOTES.txt" || strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", name, strings.TrimRight(text, "\n"))
	}
	return out.String(), nil
}
