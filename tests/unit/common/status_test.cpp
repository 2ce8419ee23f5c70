#include <catch2/catch.hpp>
#include <cerrno>

#include "zerofs/common/result.h"

using zerofs::Result;
using zerofs::Status;
using zerofs::StatusCode;

namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd: " + std::to_string(v));
  return v / 2;
}

Result<int> Quarter(int v) {
  ZEROFS_ASSIGN_OR_RETURN(int h, Half(v));
  ZEROFS_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckPositive(int v) {
  if (v <= 0) return Status::InvalidArgument("not positive");
  return Status::Ok();
}

Status Both(int a, int b) {
  ZEROFS_RETURN_IF_ERROR(CheckPositive(a));
  ZEROFS_RETURN_IF_ERROR(CheckPositive(b));
  return Status::Ok();
}

}  // namespace

TEST_CASE("Status carries code and message") {
  Status ok;
  CHECK(ok.ok());
  CHECK(ok.ToString() == "OK");
  Status nf = Status::NotFound("segments/01");
  CHECK_FALSE(nf.ok());
  CHECK(nf.IsNotFound());
  CHECK(nf.ToString() == "not found: segments/01");
  CHECK(nf.WithContext("get").ToString() == "not found: get: segments/01");
  CHECK(Status::Unavailable("503").IsRetryable());
  CHECK_FALSE(Status::PreconditionFailed("412").IsRetryable());
}

TEST_CASE("Status::FromErrno maps the errors callers act on") {
  CHECK(Status::FromErrno(ENOENT, "open x").code() == StatusCode::kNotFound);
  CHECK(Status::FromErrno(ENOSPC, "write x").code() == StatusCode::kNoSpace);
  CHECK(Status::FromErrno(EDQUOT, "write x").code() == StatusCode::kNoSpace);
  CHECK(Status::FromErrno(EACCES, "open x").code() == StatusCode::kPermissionDenied);
  CHECK(Status::FromErrno(EIO, "read x").code() == StatusCode::kIoError);
  CHECK(Status::FromErrno(EIO, "read x").message().find("read x: ") == 0);
}

TEST_CASE("Result holds a value or a status and propagates errors") {
  CHECK(*Quarter(8) == 2);
  Result<int> r = Quarter(6);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "odd: 3");
  CHECK(r.value_or(-1) == -1);
  CHECK(Both(1, 2).ok());
  CHECK(Both(1, -2).message() == "not positive");
}

TEST_CASE("Result from an OK status is an internal error, not a silent value") {
  Result<int> r{Status::Ok()};
  CHECK_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInternal);
}

TEST_CASE("Result supports move-only values") {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  REQUIRE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  CHECK(*p == 7);
}

TEST_CASE("A Status keeps its POSIX errno through context and copies") {
  const Status plain = Status::NotFound("segments/01");
  CHECK(plain.posix_errno() == 0);

  const Status e(StatusCode::kNotFound, "lookup 'a'", ENOENT);
  CHECK(e.posix_errno() == ENOENT);
  const Status wrapped = e.WithContext("resolving /a").WithContext("zerofs fs cat");
  CHECK(wrapped.posix_errno() == ENOENT);
  CHECK(wrapped.code() == StatusCode::kNotFound);
  CHECK(wrapped.message() == "zerofs fs cat: resolving /a: lookup 'a'");

  Status copy = wrapped;
  CHECK(copy.posix_errno() == ENOENT);
  Status moved = std::move(copy);
  CHECK(moved.posix_errno() == ENOENT);
  Result<int> r = moved;
  CHECK(r.status().posix_errno() == ENOENT);

  // The errno is part of the value.
  CHECK(e != Status(StatusCode::kNotFound, "lookup 'a'", ESTALE));
  CHECK(e != Status::NotFound("lookup 'a'"));
  // OK never carries one.
  CHECK(Status(StatusCode::kOk, "", ENOENT).posix_errno() == 0);
  // A local errno is named, not recorded: it is not a client's answer.
  CHECK(Status::FromErrno(ENOENT, "open x").posix_errno() == 0);
}
