#include "zerofs/vfs/error.h"

#include <cerrno>
#include <string>

namespace zerofs::vfs {
namespace {

struct ErrnoEntry {
  int value;
  std::string_view name;
};

// The errnos a Filesystem returns, and a few more that protocols may meet.
constexpr ErrnoEntry kErrnos[] = {
    {EPERM, "EPERM"},
    {ENOENT, "ENOENT"},
    {EIO, "EIO"},
    {ENXIO, "ENXIO"},
    {E2BIG, "E2BIG"},
    {EBADF, "EBADF"},
    {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},
    {EBUSY, "EBUSY"},
    {EEXIST, "EEXIST"},
    {EXDEV, "EXDEV"},
    {ENODEV, "ENODEV"},
    {ENOTDIR, "ENOTDIR"},
    {EISDIR, "EISDIR"},
    {EINVAL, "EINVAL"},
    {ENFILE, "ENFILE"},
    {EMFILE, "EMFILE"},
    {EFBIG, "EFBIG"},
    {ENOSPC, "ENOSPC"},
    {ESPIPE, "ESPIPE"},
    {EROFS, "EROFS"},
    {EMLINK, "EMLINK"},
    {ERANGE, "ERANGE"},
    {ENAMETOOLONG, "ENAMETOOLONG"},
    {ENOTEMPTY, "ENOTEMPTY"},
    {ELOOP, "ELOOP"},
    {ENODATA, "ENODATA"},
    {EOVERFLOW, "EOVERFLOW"},
    {EOPNOTSUPP, "EOPNOTSUPP"},
    {ESTALE, "ESTALE"},
    {EDQUOT, "EDQUOT"},
    {ENOSYS, "ENOSYS"},
    {ENOLCK, "ENOLCK"},
};

StatusCode CodeOf(int errnum) {
  switch (errnum) {
    case ENOENT:
    case ESTALE:
    case ENODATA:
    case ENXIO: return StatusCode::kNotFound;
    case EEXIST: return StatusCode::kAlreadyExists;
    case EACCES:
    case EPERM: return StatusCode::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case ENFILE:
    case EMFILE:
    case ENOLCK: return StatusCode::kNoSpace;
    case EOPNOTSUPP:
    case ENOSYS: return StatusCode::kNotSupported;
    case EROFS: return StatusCode::kCancelled;
    case EIO: return StatusCode::kIoError;
    default: return StatusCode::kInvalidArgument;
  }
}

}  // namespace

std::string_view ErrnoName(int errnum) {
  if (errnum == 0) return "OK";
  for (const ErrnoEntry& e : kErrnos) {
    if (e.value == errnum) return e.name;
  }
  return "E?";
}

Status Error(int errnum, std::string_view what) {
  // The name is for people reading logs and CLI messages; ErrnoOf reads the field.
  const std::string_view name = ErrnoName(errnum);
  std::string message = "[";
  message += name == "E?" ? std::to_string(errnum) : std::string(name);
  message += "] ";
  message += what;
  return Status(CodeOf(errnum), std::move(message), errnum);
}

int ErrnoOf(const Status& status) {
  if (status.ok()) return 0;
  if (status.posix_errno() > 0) return status.posix_errno();
  switch (status.code()) {
    case StatusCode::kNoSpace: return ENOSPC;
    case StatusCode::kNotSupported: return EOPNOTSUPP;
    default: return EIO;
  }
}

}  // namespace zerofs::vfs
