// Listen-address parsing; see endpoint.h.
#include "zerofs/server/endpoint.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace zerofs::server {

Result<ListenAddress> ParseListenAddress(std::string_view text, std::string_view example) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("invalid listen address '" + std::string(text) +
                                   "': " + std::string(why) + " (expected ADDR:PORT, e.g. " +
                                   std::string(example) + ")");
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("no port");
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("IPv6 addresses need brackets");
  }
  if (host.empty()) return bad("no address");
  ListenAddress out;
  const std::string_view port = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size()) return bad("bad port");
  boost::system::error_code addr_ec;
  boost::asio::ip::make_address(std::string(host), addr_ec);
  if (addr_ec) return bad("not an IP address");
  out.host = std::string(host);
  return out;
}

}  // namespace zerofs::server
