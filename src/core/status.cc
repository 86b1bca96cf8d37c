#include "core/status.h"

#include <cerrno>
#include <cstring>

namespace pcipass {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kConflict:
      return "conflict";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kIOError:
      return "io_error";
    case StatusCode::kDataLoss:
      return "data_loss";
    case StatusCode::kInternal:
      return "internal";
  }
  return "unknown";
}

namespace {

const char* ErrnoName(int err) {
  switch (err) {
    case ENOENT:
      return "ENOENT";
    case ENODEV:
      return "ENODEV";
    case EBUSY:
      return "EBUSY";
    case EINVAL:
      return "EINVAL";
    case EPERM:
      return "EPERM";
    case EACCES:
      return "EACCES";
    case ERANGE:
      return "ERANGE";
    case EEXIST:
      return "EEXIST";
    case EAGAIN:
      return "EAGAIN";
    case EIO:
      return "EIO";
    case ENOMEM:
      return "ENOMEM";
    case ENOTDIR:
      return "ENOTDIR";
    case ENOSPC:
      return "ENOSPC";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case ENXIO:
      return "ENXIO";
    case ENOTTY:
      return "ENOTTY";
    case EROFS:
      return "EROFS";
    default:
      return nullptr;
  }
}

StatusCode CodeForErrno(int err) {
  switch (err) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
      return StatusCode::kNotFound;
    case EBUSY:
    case EAGAIN:
    case ETIMEDOUT:
      return StatusCode::kUnavailable;
    case EACCES:
    case EPERM:
    case EROFS:
      return StatusCode::kPermissionDenied;
    case EINVAL:
    case ERANGE:
      return StatusCode::kInvalidArgument;
    case EEXIST:
      return StatusCode::kAlreadyExists;
    default:
      return StatusCode::kIOError;
  }
}

}  // namespace

Status Status::FromErrno(int err, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  if (const char* name = ErrnoName(err)) {
    msg += " (";
    msg += name;
    msg += ")";
  }
  Status s(CodeForErrno(err), std::move(msg));
  s.errno_ = err;
  return s;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  Status s = *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  s.message_ = std::move(msg);
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(StatusCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace pcipass
