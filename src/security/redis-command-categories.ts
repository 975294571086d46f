/**
 * Redis 7.0's commands and subcommands (`parent|sub`) with their ACL categories, as redis-server
 * 7.0.15 answers COMMAND (366 entries, each `name category...`). ACL GETUSER and ACL LIST describe
 * command rules as Redis does (acl.ts, describeCommandRules), and Redis picks the categories of a
 * description by counting their commands over its whole table, Shoal's missing commands included:
 * so the description needs them. test/integration/resp-acl-rules.test.ts checks this table
 * against the installed redis-server's COMMAND.
 */
const TABLE = `
acl slow
acl|dryrun admin slow dangerous
acl|setuser admin slow dangerous
acl|getuser admin slow dangerous
acl|cat slow
acl|help slow
acl|save admin slow dangerous
acl|log admin slow dangerous
acl|load admin slow dangerous
acl|whoami slow
acl|genpass slow
acl|deluser admin slow dangerous
acl|list admin slow dangerous
acl|users admin slow dangerous
append write string fast
asking fast connection
auth fast connection
bgrewriteaof admin slow dangerous
bgsave admin slow dangerous
bitcount read bitmap slow
bitfield write bitmap slow
bitfield_ro read bitmap fast
bitop write bitmap slow
bitpos read bitmap slow
blmove write list slow blocking
blmpop write list slow blocking
blpop write list slow blocking
brpop write list slow blocking
brpoplpush write list slow blocking
bzmpop write sortedset slow blocking
bzpopmax write sortedset fast blocking
bzpopmin write sortedset fast blocking
client slow
client|trackinginfo slow connection
client|no-evict admin slow dangerous connection
client|setname slow connection
client|unblock admin slow dangerous connection
client|help slow connection
client|caching slow connection
client|reply slow connection
client|pause admin slow dangerous connection
client|getname slow connection
client|unpause admin slow dangerous connection
client|tracking slow connection
client|id slow connection
client|kill admin slow dangerous connection
client|list admin slow dangerous connection
client|getredir slow connection
client|info slow connection
cluster slow
cluster|setslot admin slow dangerous
cluster|links slow
cluster|shards slow
cluster|help slow
cluster|forget admin slow dangerous
cluster|count-failure-reports admin slow dangerous
cluster|getkeysinslot slow
cluster|flushslots admin slow dangerous
cluster|delslotsrange admin slow dangerous
cluster|info slow
cluster|addslots admin slow dangerous
cluster|keyslot slow
cluster|slaves admin slow dangerous
cluster|nodes slow
cluster|saveconfig admin slow dangerous
cluster|slots slow
cluster|replicas admin slow dangerous
cluster|delslots admin slow dangerous
cluster|bumpepoch admin slow dangerous
cluster|replicate admin slow dangerous
cluster|set-config-epoch admin slow dangerous
cluster|myid slow
cluster|failover admin slow dangerous
cluster|addslotsrange admin slow dangerous
cluster|countkeysinslot slow
cluster|reset admin slow dangerous
cluster|meet admin slow dangerous
command slow connection
command|count slow connection
command|docs slow connection
command|list slow connection
command|getkeys slow connection
command|getkeysandflags slow connection
command|help slow connection
command|info slow connection
config slow
config|resetstat admin slow dangerous
config|help slow
config|rewrite admin slow dangerous
config|get admin slow dangerous
config|set admin slow dangerous
copy keyspace write slow
dbsize keyspace read fast
debug admin slow dangerous
decr write string fast
decrby write string fast
del keyspace write slow
discard fast transaction
dump keyspace read slow
echo fast connection
eval slow scripting
eval_ro slow scripting
evalsha slow scripting
evalsha_ro slow scripting
exec slow transaction
exists keyspace read fast
expire keyspace write fast
expireat keyspace write fast
expiretime keyspace read fast
failover admin slow dangerous
fcall slow scripting
fcall_ro slow scripting
flushall keyspace write slow dangerous
flushdb keyspace write slow dangerous
function slow
function|load write slow scripting
function|flush write slow scripting
function|delete write slow scripting
function|restore write slow scripting
function|help slow scripting
function|list slow scripting
function|kill slow scripting
function|dump slow scripting
function|stats slow scripting
geoadd write geo slow
geodist read geo slow
geohash read geo slow
geopos read geo slow
georadius write geo slow
georadius_ro read geo slow
georadiusbymember write geo slow
georadiusbymember_ro read geo slow
geosearch read geo slow
geosearchstore write geo slow
get read string fast
getbit read bitmap fast
getdel write string fast
getex write string fast
getrange read string slow
getset write string fast
hdel write hash fast
hello fast connection
hexists read hash fast
hget read hash fast
hgetall read hash slow
hincrby write hash fast
hincrbyfloat write hash fast
hkeys read hash slow
hlen read hash fast
hmget read hash fast
hmset write hash fast
hrandfield read hash slow
hscan read hash slow
hset write hash fast
hsetnx write hash fast
hstrlen read hash fast
hvals read hash slow
incr write string fast
incrby write string fast
incrbyfloat write string fast
info slow dangerous
keys keyspace read slow dangerous
lastsave admin fast dangerous
latency slow
latency|history admin slow dangerous
latency|doctor admin slow dangerous
latency|histogram admin slow dangerous
latency|latest admin slow dangerous
latency|reset admin slow dangerous
latency|help slow
latency|graph admin slow dangerous
lcs read string slow
lindex read list slow
linsert write list slow
llen read list fast
lmove write list slow
lmpop write list slow
lolwut read fast
lpop write list fast
lpos read list slow
lpush write list fast
lpushx write list fast
lrange read list slow
lrem write list slow
lset write list slow
ltrim write list slow
memory slow
memory|doctor slow
memory|purge slow
memory|stats slow
memory|help slow
memory|malloc-stats slow
memory|usage read slow
mget read string fast
migrate keyspace write slow dangerous
module slow
module|load admin slow dangerous
module|loadex admin slow dangerous
module|list admin slow dangerous
module|help slow
module|unload admin slow dangerous
monitor admin slow dangerous
move keyspace write fast
mset write string slow
msetnx write string slow
multi fast transaction
object slow
object|help keyspace slow
object|freq keyspace read slow
object|idletime keyspace read slow
object|encoding keyspace read slow
object|refcount keyspace read slow
persist keyspace write fast
pexpire keyspace write fast
pexpireat keyspace write fast
pexpiretime keyspace read fast
pfadd write hyperloglog fast
pfcount read hyperloglog slow
pfdebug write hyperloglog admin slow dangerous
pfmerge write hyperloglog slow
pfselftest hyperloglog admin slow dangerous
ping fast connection
psetex write string slow
psubscribe pubsub slow
psync admin slow dangerous
pttl keyspace read fast
publish pubsub fast
pubsub slow
pubsub|channels pubsub slow
pubsub|numsub pubsub slow
pubsub|numpat pubsub slow
pubsub|shardchannels pubsub slow
pubsub|shardnumsub pubsub slow
pubsub|help slow
punsubscribe pubsub slow
quit fast connection
randomkey keyspace read slow
readonly fast connection
readwrite fast connection
rename keyspace write slow
renamenx keyspace write fast
replconf admin slow dangerous
replicaof admin slow dangerous
reset fast connection
restore keyspace write slow dangerous
restore-asking keyspace write slow dangerous
role admin fast dangerous
rpop write list fast
rpoplpush write list slow
rpush write list fast
rpushx write list fast
sadd write set fast
save admin slow dangerous
scan keyspace read slow
scard read set fast
script slow
script|help slow scripting
script|debug slow scripting
script|exists slow scripting
script|load slow scripting
script|flush slow scripting
script|kill slow scripting
sdiff read set slow
sdiffstore write set slow
select fast connection
set write string slow
setbit write bitmap slow
setex write string slow
setnx write string fast
setrange write string slow
shutdown admin slow dangerous
sinter read set slow
sintercard read set slow
sinterstore write set slow
sismember read set fast
slaveof admin slow dangerous
slowlog slow
slowlog|help slow
slowlog|len admin slow dangerous
slowlog|reset admin slow dangerous
slowlog|get admin slow dangerous
smembers read set slow
smismember read set fast
smove write set fast
sort write set sortedset list slow dangerous
sort_ro read set sortedset list slow dangerous
spop write set fast
spublish pubsub fast
srandmember read set slow
srem write set fast
sscan read set slow
ssubscribe pubsub slow
strlen read string fast
subscribe pubsub slow
substr read string slow
sunion read set slow
sunionstore write set slow
sunsubscribe pubsub slow
swapdb keyspace write fast dangerous
sync admin slow dangerous
time fast
touch keyspace read fast
ttl keyspace read fast
type keyspace read fast
unlink keyspace write fast
unsubscribe pubsub slow
unwatch fast transaction
wait slow connection
watch fast transaction
xack write stream fast
xadd write stream fast
xautoclaim write stream fast
xclaim write stream fast
xdel write stream fast
xgroup slow
xgroup|delconsumer write stream slow
xgroup|createconsumer write stream slow
xgroup|setid write stream slow
xgroup|create write stream slow
xgroup|help stream slow
xgroup|destroy write stream slow
xinfo slow
xinfo|consumers read stream slow
xinfo|stream read stream slow
xinfo|help stream slow
xinfo|groups read stream slow
xlen read stream fast
xpending read stream slow
xrange read stream slow
xread read stream slow blocking
xreadgroup write stream slow blocking
xrevrange read stream slow
xsetid write stream fast
xtrim write stream slow
zadd write sortedset fast
zcard read sortedset fast
zcount read sortedset fast
zdiff read sortedset slow
zdiffstore write sortedset slow
zincrby write sortedset fast
zinter read sortedset slow
zintercard read sortedset slow
zinterstore write sortedset slow
zlexcount read sortedset fast
zmpop write sortedset slow
zmscore read sortedset fast
zpopmax write sortedset fast
zpopmin write sortedset fast
zrandmember read sortedset slow
zrange read sortedset slow
zrangebylex read sortedset slow
zrangebyscore read sortedset slow
zrangestore write sortedset slow
zrank read sortedset fast
zrem write sortedset fast
zremrangebylex write sortedset slow
zremrangebyrank write sortedset slow
zremrangebyscore write sortedset slow
zrevrange read sortedset slow
zrevrangebylex read sortedset slow
zrevrangebyscore read sortedset slow
zrevrank read sortedset fast
zscan read sortedset slow
zscore read sortedset fast
zunion read sortedset slow
zunionstore write sortedset slow
`;

/** Redis 7.0's command names, each with its ACL categories (without '@'), in COMMAND's order sorted by name. */
export const REDIS_COMMAND_CATEGORIES: readonly { readonly name: string; readonly categories: readonly string[] }[] = TABLE.trim()
  .split('\n')
  .map((line) => {
    const [name, ...categories] = line.split(' ');
    return { name: name!, categories };
  });
