#include "rocksdb_status.h"

#include <string>

namespace zerofs::index {

Status FromRocksDb(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::Ok();
  std::string message = std::string(what) + ": " + status.ToString();
  if (status.IsCorruption()) return Status::Corruption(std::move(message));
  if (status.IsNoSpace()) return Status::NoSpace(std::move(message));
  if (status.IsPathNotFound()) return Status::NotFound(std::move(message));
  if (status.IsIOError()) return Status::IoError(std::move(message));
  if (status.IsNotFound()) return Status::NotFound(std::move(message));
  if (status.IsInvalidArgument()) return Status::InvalidArgument(std::move(message));
  if (status.IsNotSupported()) return Status::NotSupported(std::move(message));
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain()) {
    return Status::Unavailable(std::move(message));
  }
  if (status.IsAborted() || status.IsShutdownInProgress()) {
    return Status::Cancelled(std::move(message));
  }
  return Status::Internal(std::move(message));
}

}  // namespace zerofs::index
