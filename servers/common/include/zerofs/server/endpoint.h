// Listen addresses: the "ADDR:PORT" text a server is told to listen on, parsed into an IP
// literal and a port. IPv6 addresses are written in brackets ("[::1]:10809"); host names
// are refused so that a server never listens somewhere a resolver picked.
//
// Pure functions on values; safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zerofs/common/result.h"

namespace zerofs::server {

struct ListenAddress {
  std::string host;  // an IP literal, without brackets
  std::uint16_t port = 0;
};

// "127.0.0.1:10809", "[::1]:0". InvalidArgument names the bad text and, as a hint, the
// caller's `example` (its default address).
Result<ListenAddress> ParseListenAddress(std::string_view text, std::string_view example);

}  // namespace zerofs::server
