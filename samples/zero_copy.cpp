// zero_copy: big buffers through a pipeline without copying them, and without
// allocating them again. Each 1 MiB buffer travels by pointer (a std::unique_ptr moved
// through the channels: the channel moves 8 bytes, never the megabyte) from a reader
// stage, through a transform stage, to a writer stage, which gives it back to a
// go::pool (Go's sync.Pool); the reader takes its next buffer from the pool.
// Checks: 1,000 buffers (1 GiB of data) go through with the right checksum, and the
// number of buffers ever allocated stays flat: bounded by what can be in flight (the
// channels' slots, one per stage, a few per P in the pool), not by the item count.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <go/go.hpp>
#include <go/sync/pool.hpp>
#include <memory>
#include <vector>

constexpr std::size_t buffer_size = 1 << 20;
std::atomic<int> allocated{0};

struct buffer {
  std::vector<std::uint64_t> words = std::vector<std::uint64_t>(buffer_size / 8);
  std::uint64_t seq = 0;
  buffer() { ++allocated; }
};
using buffer_ptr = std::unique_ptr<buffer>;

// The reader: fills buffers (the "input") and sends them on.
go::task<void> reader(int count, go::pool<buffer_ptr>* pool, go::send_only<buffer_ptr> out) {
  for (int i = 0; i < count; ++i) {
    buffer_ptr b = pool->get();
    b->seq = static_cast<std::uint64_t>(i);
    std::fill(b->words.begin(), b->words.end(), 0x0101010101010101ull * static_cast<std::uint8_t>(i));
    co_await out.send(std::move(b));  // the pointer moves; the megabyte stays put
  }
  out.close();
}

// The transform: works on the buffer in place.
go::task<void> transform(go::recv_only<buffer_ptr> in, go::send_only<buffer_ptr> out) {
  while (auto b = co_await in.recv()) {
    for (auto& x : (*b)->words) x ^= 0x5a5a5a5a5a5a5a5aull;
    co_await out.send(std::move(*b));
  }
  out.close();
}

// The writer: consumes the buffer (a checksum stands in for the output), then recycles it.
go::task<std::uint64_t> writer(go::recv_only<buffer_ptr> in, go::pool<buffer_ptr>* pool) {
  std::uint64_t sum = 0;
  while (auto b = co_await in.recv()) {
    sum += ((*b)->words.front() & 0xff) + ((*b)->words.back() >> 56) + (*b)->seq;
    pool->put(std::move(*b));
  }
  co_return sum;
}

go::task<int> zero_copy_main() {
  constexpr int count = 1000;
  go::pool<buffer_ptr> pool([] { return std::make_unique<buffer>(); });
  auto raw = go::make_chan<buffer_ptr>(4);
  auto done = go::make_chan<buffer_ptr>(4);
  go::spawn(reader, count, &pool, raw);
  go::spawn(transform, raw, done);
  auto w = go::spawn(writer, done, &pool);
  const std::uint64_t sum = co_await w;

  std::uint64_t want = 0;
  for (int i = 0; i < count; ++i) want += 2 * (static_cast<std::uint8_t>(i) ^ 0x5a) + static_cast<std::uint64_t>(i);
  // In flight at most: 4 + 4 channel slots, one buffer held by each of the 3 stages,
  // and the pool's put/get race between the writer and the reader on different Ps.
  const int bound = 4 + 4 + 3 + 8;
  std::printf("zero_copy: %d buffers of 1 MiB through 3 stages, %d allocated (bound %d), checksum %s\n", count,
              allocated.load(), bound, sum == want ? "right" : "WRONG");
  const bool ok = sum == want && allocated.load() <= bound;
  std::printf("zero_copy: %s\n", ok ? "ok" : "FAILED");
  co_return ok ? 0 : 1;
}

int main() { return go::run(zero_copy_main); }
