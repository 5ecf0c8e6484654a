// The echo server with no runtime at all: what the kernel alone allows on this machine,
// for reading bench/run's echo_server ratio.
//   echo_floor ADDR      serve until stdin closes
//
// Two threads (one per core here) wait on one edge-triggered epoll set and echo in
// place (the client keeps one message in flight per connection, so two threads never
// hold one connection's data at once), making the very system calls Go's server makes per message (read the 64 bytes,
// write them, read again until EAGAIN) and nothing else: no goroutines, no wakeups, no
// locks. Whatever time a server takes beyond this floor is its runtime's; the rest is
// loopback TCP in the kernel, which no server can make cheaper.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

int epfd = -1, lfd = -1;

void add(int fd) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.fd = fd;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) std::perror("epoll_ctl"), std::exit(1);
}

void serve() {
  epoll_event evs[64];
  char buf[64];  // the size of Go's server's buffer
  for (;;) {
    int n = epoll_wait(epfd, evs, 64, -1);
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        for (int c; (c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0;) {
          int one = 1;
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as Go's conns
          add(c);
        }
        continue;
      }
      for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0) {
          if (r == 0 || errno != EAGAIN) close(fd);
          break;
        }
        // A 64-byte write to a socket with an empty send queue: complete, or the peer
        // is gone (the next read tells).
        if (write(fd, buf, static_cast<std::size_t>(r)) != r) break;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string addr = argc == 2 ? argv[1] : "";
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) return std::fprintf(stderr, "usage: echo_floor 127.0.0.1:PORT\n"), 2;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(std::atoi(addr.c_str() + colon + 1)));
  if (inet_pton(AF_INET, addr.substr(0, colon).c_str(), &sa.sin_addr) != 1) return std::fprintf(stderr, "bad address\n"), 2;
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(lfd, 1024) != 0)
    return std::perror("listen"), 1;
  epfd = epoll_create1(0);
  add(lfd);
  std::thread(serve).detach();
  std::thread(serve).detach();
  char c;
  while (read(0, &c, 1) > 0) {}  // until bench/run closes our stdin
  return 0;
}
