// go::use_go with asio::ssl::stream: a TLS handshake, echo and shutdown over loopback,
// every step awaited from goroutines, and a ctx canceling a TLS read. Built when CMake
// finds OpenSSL (libssl-dev, which scripts/install-deps installs).
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/ssl.hpp>
#include <asio/write.hpp>
#include <go/asio.hpp>
#include <memory>
#include <string>

// Asio's TLS layer, compiled once (the library compiles the rest of Asio; a program that
// uses ssl::stream compiles this in one of its files, as the guide says).
#include <asio/ssl/impl/src.hpp>

#include "support/go_test.hpp"

using namespace std::chrono_literals;
using asio::ip::tcp;
namespace ssl = asio::ssl;

namespace {

// A throwaway P-256 key and a self-signed certificate for "localhost", valid for an hour
// either side of now: made at run time, so the repository holds no key and no
// certificate expires.
struct identity {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_EC_gen("P-256"), &EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> cert{X509_new(), &X509_free};

  identity() {
    REQUIRE(key);
    REQUIRE(cert);
    X509* x = cert.get();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key.get());
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(x, name);
    REQUIRE(X509_sign(x, key.get(), EVP_sha256()) > 0);
  }

  ssl::context server() const {
    ssl::context c(ssl::context::tls_server);
    REQUIRE(SSL_CTX_use_certificate(c.native_handle(), cert.get()) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(c.native_handle(), key.get()) == 1);
    return c;
  }
  // A client that trusts only this certificate, and checks the peer's name.
  ssl::context client() const {
    ssl::context c(ssl::context::tls_client);
    REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(c.native_handle()), cert.get()) == 1);
    c.set_verify_mode(ssl::verify_peer);
    return c;
  }
};

using tls = ssl::stream<tcp::socket>;

}  // namespace

TEST_SUITE_BEGIN("asio");

GO_TEST_CASE("TLS over loopback: handshake, echo and shutdown with use_go") {
  identity id;
  ssl::context server_ctx = id.server(), client_ctx = id.client();
  tcp::acceptor acceptor(go::io_context(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = acceptor.local_endpoint().port();

  auto server = [&]() -> go::task<int> {
    tls s(co_await acceptor.async_accept(go::use_go), server_ctx);
    co_await s.async_handshake(ssl::stream_base::server, go::use_go);
    char buf[256];
    int echoed = 0;
    for (;;) {
      std::size_t n = 0;
      try {
        n = co_await s.async_read_some(asio::buffer(buf), go::use_go);
      } catch (const std::system_error& e) {
        CHECK(e.code() == asio::error::eof);  // the client's close_notify
        break;
      }
      co_await asio::async_write(s, asio::buffer(buf, n), go::use_go);
      ++echoed;
    }
    co_await s.async_shutdown(go::use_go);
    co_return echoed;
  };
  auto h = go::spawn(server);

  tls c(go::io_context(), client_ctx);
  c.set_verify_callback(ssl::host_name_verification("localhost"));
  co_await c.next_layer().async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), go::use_go);
  co_await c.async_handshake(ssl::stream_base::client, go::use_go);
  for (int i = 0; i < 50; ++i) {
    std::string msg = "tls ping " + std::to_string(i);
    co_await asio::async_write(c, asio::buffer(msg), go::use_go);
    std::string back(msg.size(), '\0');
    std::size_t n = co_await asio::async_read(c, asio::buffer(back), go::use_go);
    CHECK(n == msg.size());
    CHECK(back == msg);
  }
  try {
    co_await c.async_shutdown(go::use_go);  // sends close_notify, waits for the server's
  } catch (const std::system_error& e) {
    CHECK(e.code() == asio::error::eof);  // or the server's close after it
  }
  const int echoed = co_await h;
  CHECK(echoed == 50);
}

GO_TEST_CASE("a client that does not trust the server's certificate fails the handshake") {
  identity id, other;  // the client trusts a different certificate
  ssl::context server_ctx = id.server(), client_ctx = other.client();
  tcp::acceptor acceptor(go::io_context(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = acceptor.local_endpoint().port();
  auto server = [&]() -> go::task<bool> {
    tls s(co_await acceptor.async_accept(go::use_go), server_ctx);
    try {
      co_await s.async_handshake(ssl::stream_base::server, go::use_go);
    } catch (const std::system_error&) {
      co_return false;  // the client aborted
    }
    co_return true;
  };
  auto h = go::spawn(server);
  tls c(go::io_context(), client_ctx);
  co_await c.next_layer().async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), go::use_go);
  bool failed = false;
  try {
    co_await c.async_handshake(ssl::stream_base::client, go::use_go);
  } catch (const std::system_error& e) {
    failed = e.code().category() == asio::error::get_ssl_category();
  }
  CHECK(failed);
  c.next_layer().close();
  const bool server_done = co_await h;
  CHECK_FALSE(server_done);
}

GO_TEST_CASE("use_go(ctx) cancels a TLS read that waits for data") {
  identity id;
  ssl::context server_ctx = id.server(), client_ctx = id.client();
  tcp::acceptor acceptor(go::io_context(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = acceptor.local_endpoint().port();
  auto [ctx, cancel] = go::with_cancel(go::background());
  go::chan<int> handshaken = go::make_chan<int>();
  // The server completes the handshake, then reads: nothing ever comes.
  auto server = [&, ctx = ctx]() -> go::task<void> {
    tls s(co_await acceptor.async_accept(go::use_go), server_ctx);
    co_await s.async_handshake(ssl::stream_base::server, go::use_go);
    co_await handshaken.send(1);
    char buf[16];
    bool canceled = false;
    try {
      (void)co_await s.async_read_some(asio::buffer(buf), go::use_go(ctx));
    } catch (const go::error& e) {
      canceled = e.code() == go::errc::canceled;
    }
    CHECK(canceled);
  };
  auto h = go::spawn(server);
  tls c(go::io_context(), client_ctx);
  co_await c.next_layer().async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), go::use_go);
  co_await c.async_handshake(ssl::stream_base::client, go::use_go);
  auto awaited_172 = co_await handshaken.recv();
  CHECK(awaited_172 == 1);
  cancel();
  co_await h;  // returns: the canceled read woke the server
}

TEST_SUITE_END();
