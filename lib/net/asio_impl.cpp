// Asio, compiled once (separate compilation): gocoro's library holds Asio's
// implementation, and every translation unit that includes <asio.hpp> sees only the
// declarations (ASIO_SEPARATE_COMPILATION is a public definition of gocoro::gocoro).
#include <asio/impl/src.hpp>
