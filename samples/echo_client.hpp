// The echo client's exchange, shared by samples/echo_client and echo_server's self-test:
// send `rounds` messages, check each comes back. Returns the number of mismatches.
#pragma once

#include <go/net.hpp>
#include <string>

inline go::task<int> echo_exchange(std::string address, int rounds) {
  auto c = co_await go::net::dial("tcp", address);
  int bad = 0;
  for (int i = 0; i < rounds; ++i) {
    std::string msg = "hello " + std::to_string(i);
    co_await c.write(msg);
    std::string back(msg.size(), '\0');
    co_await c.read_full(std::as_writable_bytes(std::span(back)));
    bad += back != msg;
  }
  c.close();
  co_return bad;
}
