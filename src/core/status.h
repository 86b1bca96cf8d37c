// Status and Result<T>: errors as values.
//
// Every fallible function in pcipass returns a Status (no value) or a
// Result<T> (a value or a Status). A Status carries a small code, used by the
// CLI (exit codes) and the API (HTTP codes), and a message with context
// attached where the error started ("write .../driver_override: EBUSY").
// Layers wrap the message once with what they were doing (WithContext), so a
// failure reads as a chain: "detach 0000:03:00.0: unbind: ...". No exception
// crosses a module boundary; adapters around throwing libraries catch and
// convert.
#ifndef PCIPASS_CORE_STATUS_H_
#define PCIPASS_CORE_STATUS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace pcipass {

// Do not renumber: codes are mapped to exit codes and HTTP codes.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument = 1,     // bad user input (config, address, request)
  kNotFound = 2,            // no such device, instance, file
  kAlreadyExists = 3,       // duplicate identifier
  kFailedPrecondition = 4,  // IOMMU off, group not viable, host uses it
  kConflict = 5,            // owned by someone else
  kPermissionDenied = 6,    // EACCES/EPERM
  kUnavailable = 7,         // busy, timed out, try again
  kIOError = 8,             // other I/O failure
  kDataLoss = 9,            // corrupt ledger or journal
  kInternal = 10,           // a bug
};

// Name of |code| in snake_case ("invalid_argument"), stable for JSON.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) {
    return {StatusCode::kNotFound, std::move(m)};
  }
  static Status AlreadyExists(std::string m) {
    return {StatusCode::kAlreadyExists, std::move(m)};
  }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Conflict(std::string m) {
    return {StatusCode::kConflict, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Unavailable(std::string m) {
    return {StatusCode::kUnavailable, std::move(m)};
  }
  static Status IOError(std::string m) {
    return {StatusCode::kIOError, std::move(m)};
  }
  static Status DataLoss(std::string m) {
    return {StatusCode::kDataLoss, std::move(m)};
  }
  static Status Internal(std::string m) {
    return {StatusCode::kInternal, std::move(m)};
  }
  // Maps an errno value to a code (ENOENT -> NotFound, EBUSY -> Unavailable,
  // EACCES/EPERM -> PermissionDenied, EINVAL -> InvalidArgument, else
  // IOError) and builds "<what>: <strerror> (<ERRNAME>)".
  static Status FromErrno(int err, std::string_view what);

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Errno recorded by FromErrno, or 0.
  int sys_errno() const { return errno_; }

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;
  // "<code name>: <message>", or "ok".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  int errno_ = 0;
};

// A value of type T or a non-OK Status; shaped like std::expected so that a
// later move to C++23 is mechanical.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT
    if (std::get<Status>(data_).ok()) {
      data_ = Status::Internal("Result constructed from an OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // The error; OK when ok().
  Status status() const {
    return ok() ? Status::Ok() : std::get<Status>(data_);
  }
  T value_or(T fallback) const { return ok() ? value() : fallback; }

 private:
  std::variant<T, Status> data_;
};

}  // namespace pcipass

// Returns the status of |expr| from the enclosing function if it is not OK.
#define PCIPASS_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::pcipass::Status pcipass_status_ = (expr);        \
    if (!pcipass_status_.ok()) return pcipass_status_; \
  } while (0)

#endif  // PCIPASS_CORE_STATUS_H_
