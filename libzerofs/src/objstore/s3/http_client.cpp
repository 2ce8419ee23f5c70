#include "objstore/s3/http_client.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <mutex>

namespace zerofs::objstore::s3 {
namespace {

std::once_flag g_curl_init;

// libcurl's global state must be initialised once, before any thread uses a handle.
void InitCurlOnce() {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool HasHeader(const HeaderList& headers, std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (Lower(name) == lower_name) return true;
  }
  return false;
}

// State of one transfer, reached from libcurl's callbacks.
struct Transfer {
  std::string_view upload;
  std::size_t upload_offset = 0;
  HttpResponse* response = nullptr;
  std::uint64_t max_response_bytes = 0;
  bool expect_body = true;  // false for HEAD, whose Content-Length describes no body here
  bool reserved = false;
  bool too_large = false;
};

std::size_t OnWrite(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  if (t->response->body.size() + n > t->max_response_bytes) {
    t->too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  t->response->body.append(data, n);
  return n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  const std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new status line (after "100 Continue" or a redirect) starts a new header block.
    t->response->headers.clear();
    return n;
  }
  const std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name = Lower(TrimSpace(line.substr(0, colon)));
    std::string value(TrimSpace(line.substr(colon + 1)));
    if (name == "content-length" && t->expect_body && !t->reserved) {
      // Reserve up front to avoid regrowing large bodies, within the response bound.
      const std::uint64_t len = std::strtoull(value.c_str(), nullptr, 10);
      if (len <= t->max_response_bytes && len <= (256u << 20)) t->response->body.reserve(len);
      t->reserved = true;
    }
    t->response->headers.emplace_back(std::move(name), std::move(value));
  }
  return n;
}

std::size_t OnRead(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = std::min(size * count, t->upload.size() - t->upload_offset);
  std::copy_n(t->upload.data() + t->upload_offset, n, buffer);
  t->upload_offset += n;
  return n;
}

// libcurl rewinds the upload when it resends a request on a fresh connection.
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > t->upload.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  t->upload_offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool Transient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN: return true;
    default: return false;
  }
}

}  // namespace

struct HttpClient::Share {
  CURLSH* handle = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Share*>(user)->locks[static_cast<std::size_t>(data)].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Share*>(user)->locks[static_cast<std::size_t>(data)].unlock();
  }
};

const std::string* HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

HttpClient::HttpClient(const HttpClientOptions& options)
    : options_(options), share_(std::make_unique<Share>()) {
  InitCurlOnce();
  if (options_.max_parallel == 0) options_.max_parallel = 1;
  share_->handle = curl_share_init();
  curl_share_setopt(share_->handle, CURLSHOPT_LOCKFUNC, &Share::Lock);
  curl_share_setopt(share_->handle, CURLSHOPT_UNLOCKFUNC, &Share::Unlock);
  curl_share_setopt(share_->handle, CURLSHOPT_USERDATA, share_.get());
  curl_share_setopt(share_->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_->handle, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
}

HttpClient::~HttpClient() {
  std::lock_guard lock(mu_);
  // Every Execute() has returned by the time the owner destroys the client.
  for (CURL* h : idle_) curl_easy_cleanup(h);
  idle_.clear();
  curl_share_cleanup(share_->handle);
}

CURL* HttpClient::Acquire() {
  std::unique_lock lock(mu_);
  slot_free_.wait(lock, [&] { return in_flight_ < options_.max_parallel; });
  ++in_flight_;
  if (!idle_.empty()) {
    CURL* h = idle_.back();
    idle_.pop_back();
    return h;
  }
  lock.unlock();
  return curl_easy_init();
}

void HttpClient::Release(CURL* handle) {
  {
    std::lock_guard lock(mu_);
    --in_flight_;
    if (handle != nullptr) idle_.push_back(handle);
  }
  slot_free_.notify_one();
}

HttpResult HttpClient::Execute(const HttpRequest& request) {
  HttpResult result;
  CURL* h = Acquire();
  if (h == nullptr) {
    Release(nullptr);
    result.status = Status::Internal("curl_easy_init failed");
    return result;
  }
  Transfer t;
  t.upload = request.body;
  t.response = &result.response;
  t.max_response_bytes = request.max_response_bytes;
  t.expect_body = request.method != "HEAD";
  char error[CURL_ERROR_SIZE] = {0};

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    const std::string line = name + ": " + value;
    headers = curl_slist_append(headers, line.c_str());
  }
  // No "Expect: 100-continue" round trip before uploads, and no default Content-Type
  // for POST: neither is signed, and S3 needs neither.
  headers = curl_slist_append(headers, "Expect:");
  if (!HasHeader(request.headers, "content-type")) {
    headers = curl_slist_append(headers, "Content-Type:");
  }

  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_SHARE, share_->handle);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);    // timeouts without SIGALRM, for threads
  curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);  // the signed path is the sent path
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout_ms));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);

  const std::string method(request.method);
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT") {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(h, CURLOPT_READDATA, &t);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &OnSeek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (method == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    // A null POSTFIELDS would make libcurl read the body from stdin.
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  const CURLcode code = curl_easy_perform(h);
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  long request_bytes = 0;
  curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &request_bytes);
  if (code == CURLE_OK) {
    // Forget this request (its callbacks point into this stack frame) but keep the live
    // connection, the TLS session and the DNS cache for the next one.
    curl_easy_reset(h);
  } else {
    // After a transport failure the connection's state is unknown; start afresh.
    curl_easy_cleanup(h);
    h = nullptr;
  }
  Release(h);

  if (code == CURLE_OK) {
    result.response.status = status;
    return result;
  }
  const std::string detail = std::string(curl_easy_strerror(code)) +
                             (error[0] != '\0' ? std::string(": ") + error : std::string());
  // Nothing written to the socket means the server cannot have acted on the request.
  result.maybe_sent =
      request_bytes > 0 && code != CURLE_COULDNT_CONNECT && code != CURLE_COULDNT_RESOLVE_HOST;
  if (t.too_large) {
    result.status = Status::Corruption("answer exceeds " +
                                       std::to_string(request.max_response_bytes) + " bytes");
  } else if (Transient(code)) {
    result.status = Status::Unavailable(detail);
  } else if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
             code == CURLE_SSL_CERTPROBLEM) {
    result.status = Status::IoError("TLS verification failed (" + detail +
                                    "); check [s3] ca_file or verify_tls");
  } else if (code == CURLE_URL_MALFORMAT) {
    result.status = Status::InvalidArgument("bad S3 endpoint URL: " + detail);
  } else if (code == CURLE_UNSUPPORTED_PROTOCOL) {
    result.status = Status::IoError(detail + " (is the endpoint an S3 server?)");
  } else {
    result.status = Status::IoError(detail);
  }
  return result;
}

}  // namespace zerofs::objstore::s3
