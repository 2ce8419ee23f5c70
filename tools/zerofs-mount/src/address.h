// Where the 9P server is: HOST:PORT (127.0.0.1:5564, [::1]:5564, localhost:5564) or the
// path of a Unix socket (anything containing a '/', or naming an existing socket).
//
// Thread-safety: a value type; Dial may be called from any thread.
#pragma once

#include <string>

#include "zerofs/common/result.h"

namespace zerofs::mount {

struct Address {
  std::string host;         // empty for a Unix socket
  std::string port;
  std::string unix_path;    // set for a Unix socket
  std::string ToString() const;
};

Result<Address> ParseAddress(const std::string& text);

// A connected, blocking stream socket (TCP_NODELAY for TCP), or an error naming the
// address. `timeout_ms` bounds the connect itself.
Result<int> Dial(const Address& address, int timeout_ms);

}  // namespace zerofs::mount
