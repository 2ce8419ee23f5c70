#include "objstore/s3/sigv4.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "objstore/s3/digest.h"

namespace zerofs::objstore::s3 {
namespace {

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are signed trimmed, with runs of spaces collapsed to one, so that a proxy
// that reformats whitespace does not break the signature.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

// Lower-cased, canonical-valued, sorted; duplicate names merged with ',' as SigV4 says.
HeaderList CanonicalHeaders(const HeaderList& headers) {
  HeaderList sorted;
  sorted.reserve(headers.size());
  for (const auto& [name, value] : headers) sorted.emplace_back(Lower(name), CanonicalValue(value));
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  HeaderList merged;
  for (auto& h : sorted) {
    if (!merged.empty() && merged.back().first == h.first) {
      merged.back().second += ',';
      merged.back().second += h.second;
    } else {
      merged.push_back(std::move(h));
    }
  }
  return merged;
}

std::string_view DatePart(std::string_view amz_date_time) {
  return amz_date_time.substr(0, 8);
}

}  // namespace

std::string UriEncode(std::string_view s, bool encode_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c) || (c == '/' && !encode_slash)) {
      out += ch;
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string AmzDateTime(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

std::string SignedHeaders(const HeaderList& headers) {
  std::string out;
  for (const auto& [name, value] : CanonicalHeaders(headers)) {
    if (!out.empty()) out += ';';
    out += name;
  }
  return out;
}

std::string CanonicalRequest(const SigningInput& in) {
  const HeaderList headers = CanonicalHeaders(*in.headers);
  std::string out;
  out += in.method;
  out += '\n';
  out += in.canonical_uri.empty() ? std::string_view("/") : in.canonical_uri;
  out += '\n';
  out += in.canonical_query;
  out += '\n';
  std::string signed_headers;
  for (const auto& [name, value] : headers) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  out += '\n';
  out += signed_headers;
  out += '\n';
  out += in.payload_sha256;
  return out;
}

std::string CredentialScope(const SigningInput& in) {
  std::string out(DatePart(in.amz_date_time));
  out += '/';
  out += in.region;
  out += '/';
  out += in.service;
  out += "/aws4_request";
  return out;
}

std::string StringToSign(const SigningInput& in) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out += in.amz_date_time;
  out += '\n';
  out += CredentialScope(in);
  out += '\n';
  out += Hex(Sha256(CanonicalRequest(in)));
  return out;
}

std::string Signature(const SigningInput& in, const Secret& secret_access_key) {
  std::string k_secret = "AWS4";
  k_secret += secret_access_key.reveal();
  const Sha256Digest k_date = HmacSha256(k_secret, DatePart(in.amz_date_time));
  // The derived key is as sensitive as the secret; do not leave the copy behind.
  std::fill(k_secret.begin(), k_secret.end(), '\0');
  const Sha256Digest k_region = HmacSha256(AsBytes(k_date), in.region);
  const Sha256Digest k_service = HmacSha256(AsBytes(k_region), in.service);
  const Sha256Digest k_signing = HmacSha256(AsBytes(k_service), "aws4_request");
  return Hex(HmacSha256(AsBytes(k_signing), StringToSign(in)));
}

std::string Authorization(const SigningInput& in, std::string_view access_key_id,
                          const Secret& secret_access_key) {
  std::string out = "AWS4-HMAC-SHA256 Credential=";
  out += access_key_id;
  out += '/';
  out += CredentialScope(in);
  out += ", SignedHeaders=";
  out += SignedHeaders(*in.headers);
  out += ", Signature=";
  out += Signature(in, secret_access_key);
  return out;
}

}  // namespace zerofs::objstore::s3
