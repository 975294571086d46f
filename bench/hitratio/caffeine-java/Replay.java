import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Replays dense key ids (int32, little-endian) through the real Caffeine, built as its simulator's
 * CaffeinePolicy builds it (same-thread executor, initialCapacity = maximumSize), and prints
 * "size hits windowMaximum" per size. Run by check.ts with a BoundedLocalCache whose one random
 * call is the seeded mulberry32 stream (field mulberryState), so the hit counts are reproducible.
 *
 * java Replay ids-file seed size...
 */
public final class Replay {
  public static void main(String[] args) throws Exception {
    ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(Path.of(args[0]))).order(ByteOrder.LITTLE_ENDIAN);
    int[] ids = new int[buf.remaining() / 4];
    for (int i = 0; i < ids.length; i++) ids[i] = buf.getInt();
    Class<?> bounded = Class.forName("com.github.benmanes.caffeine.cache.BoundedLocalCache");
    var state = bounded.getDeclaredField("mulberryState");
    state.setAccessible(true);
    for (int a = 2; a < args.length; a++) {
      int size = Integer.parseInt(args[a]);
      state.setInt(null, Integer.parseInt(args[1]));
      Cache<Long, Boolean> cache = Caffeine.newBuilder().executor(Runnable::run)
          .maximumSize(size).initialCapacity(size).build();
      long hits = 0;
      for (int id : ids) {
        Long key = (long) id;
        if (cache.getIfPresent(key) != null) hits++;
        else cache.put(key, Boolean.TRUE);
      }
      var inner = cache.getClass().getDeclaredField("cache");
      inner.setAccessible(true);
      var windowMaximum = bounded.getDeclaredMethod("windowMaximum");
      windowMaximum.setAccessible(true);
      System.out.printf("%d %d %s%n", size, hits, windowMaximum.invoke(inner.get(cache)));
    }
  }
}
