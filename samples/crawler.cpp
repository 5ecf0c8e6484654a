// crawler: a concurrent web crawler over a local site, with the tools Go programs use for
// one: an errgroup with a limit (at most 8 fetches at once; the first error cancels the
// rest through its context), a weighted semaphore per host (at most 3 fetches at once
// on each), a deadline for the whole crawl (a context), and the set of URLs already seen
// under a go::mutex (every fetch adds the links it found).
// The site: two "hosts" (two listeners of an in-process HTTP server, samples/
// http_parse.hpp), 300 pages; page i is on host i % 2 and links to pages 2i+1 and 2i+2
// (a tree), back to page i/2 and to page 0 (cycles).
// Checks: every page is fetched exactly once, never more than 3 at once on a host nor 8
// in all, and well within the deadline.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <go/go.hpp>
#include <go/net.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "http_parse.hpp"

using namespace std::chrono_literals;

constexpr int pages = 300;

// ---- the site ----

go::task<void> serve_page(go::net::conn c, std::vector<std::string> hosts, std::atomic<int>* fetched) {
  std::string buf(8192, '\0');
  std::size_t have = 0;
  request r;
  long used = 0;
  while ((used = parse(std::string_view(buf.data(), have), r)) == 0) {
    const std::size_t n = co_await c.read(std::as_writable_bytes(std::span(buf).subspan(have)));
    if (n == 0) co_return c.close();
    have += n;
  }
  std::string body;
  int page = -1;
  if (used > 0 && r.path.rfind("/page/", 0) == 0) page = std::atoi(std::string(r.path.substr(6)).c_str());
  if (page >= 0 && page < pages) {
    ++fetched[page];
    auto link = [&](int p) {
      if (p < pages) body += "link http://" + hosts[static_cast<std::size_t>(p % 2)] + "/page/" + std::to_string(p) + "\n";
    };
    link(2 * page + 1), link(2 * page + 2), link(page / 2), link(0);
  }
  const std::string status = page >= 0 && page < pages ? "200 OK" : "404 Not Found";
  const std::string response = "HTTP/1.1 " + status + "\r\nContent-Length: " + std::to_string(body.size()) +
                               "\r\nConnection: close\r\n\r\n" + body;
  co_await c.write(response);
  c.close();
}

go::task<void> site(go::net::listener l, std::vector<std::string> hosts, std::atomic<int>* fetched) {
  try {
    for (;;) {
      go::net::conn c = co_await l.accept();
      go::spawn(serve_page, c, hosts, fetched);
    }
  } catch (const go::error&) {  // the listener closed: the crawl is over
  }
}

// ---- the crawler ----

struct crawler {
  explicit crawler(go::context c) : ctx(std::move(c)) {}
  go::context ctx;                            // the group's: the crawl's deadline, or the first error
  std::map<std::string, std::unique_ptr<go::semaphore>> per_host;  // fixed before the crawl
  go::mutex seen_mu;
  std::set<std::string> seen;                 // under seen_mu
  go::chan<std::vector<std::string>> found = go::make_chan<std::vector<std::string>>(16);
  std::atomic<int> on_host[2] = {0, 0}, most_on_a_host{0}, running{0}, most_running{0};

  static void raise_max(std::atomic<int>& max, int v) {
    for (int m = max.load(); v > m && !max.compare_exchange_weak(m, v);) {
    }
  }
  // Counts one fetch in `now` (and the most at once in `most`) for its scope.
  struct counted {
    std::atomic<int>& now;
    counted(std::atomic<int>& n, std::atomic<int>& most) : now(n) { raise_max(most, ++now); }
    ~counted() { --now; }
  };

  // GET url ("http://host:port/path"): the body.
  go::task<std::string> get(const std::string& url) {
    const std::size_t host_end = url.find('/', 7);
    const std::string host = url.substr(7, host_end - 7), path = url.substr(host_end);
    go::semaphore& sem = *per_host.at(host);
    co_await sem.acquire(1, ctx);  // at most 3 at once on this host
    std::string response;
    {
      struct release_slot {
        go::semaphore& sem;
        ~release_slot() { sem.release(1); }
      } slot{sem};
      counted on(on_host[host == per_host.begin()->first ? 0 : 1], most_on_a_host);
      auto c = co_await go::net::dial(ctx, "tcp", host);
      const std::string request = "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
      co_await c.write(std::as_bytes(std::span(request)), ctx);
      std::string chunk(4096, '\0');
      while (std::size_t n = co_await c.read(std::as_writable_bytes(std::span(chunk)), ctx)) response.append(chunk, 0, n);
      c.close();
    }
    const std::size_t body = response.find("\r\n\r\n");
    if (response.rfind("HTTP/1.1 200", 0) != 0 || body == std::string::npos)
      throw std::runtime_error("GET " + url + ": " + response.substr(0, response.find('\r')));
    co_return response.substr(body + 4);
  }

  // Fetch one page; report the links nobody has seen yet (and mark them seen).
  go::task<void> fetch(std::string url) {
    std::string body;
    {
      counted fetching(running, most_running);
      body = co_await get(url);
    }
    std::vector<std::string> fresh;
    {
      auto g = co_await seen_mu.lock();
      for (std::size_t at = 0; (at = body.find("link ", at)) != std::string::npos;) {
        const std::size_t eol = body.find('\n', at);
        std::string link = body.substr(at + 5, eol - at - 5);
        if (seen.insert(link).second) fresh.push_back(std::move(link));
        at = eol;
      }
    }
    co_await found.send(std::move(fresh), ctx);  // exactly one report per fetch
  }
};

go::task<int> crawl_main() {
  std::atomic<int> fetched[pages] = {};
  auto a = go::net::listen("tcp", "127.0.0.1:0"), b = go::net::listen("tcp", "127.0.0.1:0");
  const std::vector<std::string> hosts = {a.addr(), b.addr()};
  auto site_a = go::spawn(site, a, hosts, fetched);
  auto site_b = go::spawn(site, b, hosts, fetched);

  auto [deadline_ctx, cancel] = go::with_timeout(go::background(), 30s);
  auto [g, ctx] = go::errgroup::with_context(deadline_ctx);
  g.set_limit(8);
  crawler cr(ctx);
  for (const auto& h : hosts) cr.per_host.emplace(h, std::make_unique<go::semaphore>(3));

  // The work list: URLs waiting for a free slot of the group, and how many fetches have
  // not reported yet. Only this goroutine touches them.
  const std::string root = "http://" + hosts[0] + "/page/0";
  cr.seen.insert(root);
  std::vector<std::string> queue = {root};
  int outstanding = 1;
  const auto start = go::clock::now();
  bool failed = false;
  while (outstanding > 0 && !failed) {
    while (!queue.empty()) {
      auto job = [&cr, url = queue.back()]() { return cr.fetch(url); };
      if (!g.try_go(job)) break;  // 8 running: wait for one to report
      queue.pop_back();
    }
    auto done = ctx.done();
    auto r = co_await go::select(go::recv(cr.found), go::recv(done));
    if (r.index() == 1) {
      failed = true;  // a fetch failed (the group canceled ctx) or the deadline passed
      break;
    }
    --outstanding;
    for (auto& link : *r.get<0>()) queue.push_back(std::move(link)), ++outstanding;
  }
  std::string error;
  try {
    co_await g.wait();
  } catch (const std::exception& e) {
    error = e.what();
  }
  const auto took = go::clock::now() - start;
  cancel();
  a.close();
  b.close();
  co_await site_a;
  co_await site_b;

  int once = 0;
  for (auto& f : fetched) once += f.load() == 1;
  std::printf("crawler: %d of %d pages fetched exactly once in %lld ms; at most %d fetches at once (limit 8), %d on a host (limit 3)%s%s\n",
              once, pages, static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
              cr.most_running.load(), cr.most_on_a_host.load(), error.empty() ? "" : "; error: ", error.c_str());
  const bool ok = !failed && error.empty() && once == pages && cr.most_running.load() <= 8 && cr.most_on_a_host.load() <= 3;
  std::printf("crawler: %s\n", ok ? "ok" : "FAILED");
  co_return ok ? 0 : 1;
}

int main() { return go::run(crawl_main); }
