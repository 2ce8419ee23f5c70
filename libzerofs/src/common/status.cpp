#include "zerofs/common/status.h"

#include <cerrno>
#include <cstring>

namespace zerofs {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kPreconditionFailed: return "precondition failed";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kPermissionDenied: return "permission denied";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kIoError: return "I/O error";
    case StatusCode::kNoSpace: return "no space";
    case StatusCode::kNotSupported: return "not supported";
    case StatusCode::kAlreadyExists: return "already exists";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kInternal: return "internal error";
  }
  return "unknown status code";
}

Status Status::FromErrno(int err, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  switch (err) {
    case ENOENT: return NotFound(std::move(msg));
    case ENOSPC:
    case EDQUOT: return NoSpace(std::move(msg));
    case EACCES:
    case EPERM: return PermissionDenied(std::move(msg));
    case EEXIST: return AlreadyExists(std::move(msg));
    case EINVAL:
    case ENAMETOOLONG: return InvalidArgument(std::move(msg));
    default: return IoError(std::move(msg));
  }
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return {code_, std::move(msg), posix_errno_};
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace zerofs
