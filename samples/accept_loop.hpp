// accept_loop: the accept loop of every server sample (Go's
//   for { c, err := l.Accept(); if errors.Is(err, net.ErrClosed) { return }; go serve(c) }):
// each connection is served by its own goroutine, counted in `conns`, until the listener
// is closed (a shutdown); any other accept error is thrown.
#pragma once

#include <go/go.hpp>
#include <go/net.hpp>

// serve(conn) -> go::task<void>. Returns once the listener is closed; the connections
// still being served are in conns (wait for them there).
template <class Serve>
go::task<void> accept_until_closed(go::net::listener l, go::wait_group& conns, Serve serve) {
  for (;;) {
    go::net::conn c;
    bool closed = false;
    try {
      c = co_await l.accept();
    } catch (const go::error& e) {
      if (e.code() != go::errc::closed_connection) throw;
      closed = true;  // shutting down
    }
    if (closed) co_return;
    conns.go([serve, c]() { return serve(c); });
  }
}
