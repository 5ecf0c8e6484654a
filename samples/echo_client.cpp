// echo_client: connect to an echo server, send 100 messages, check the replies.
//   echo_client [address]   (default 127.0.0.1:7007)
#include <cstdio>
#include <go/go.hpp>

#include "echo_client.hpp"

go::task<int> client_main(std::string address) {
  int bad = co_await echo_exchange(address, 100);
  std::printf("%s: 100 round trips, %d wrong\n", address.c_str(), bad);
  co_return bad;
}

int main(int argc, char** argv) { return go::run(client_main, std::string(argc > 1 ? argv[1] : "127.0.0.1:7007")); }
