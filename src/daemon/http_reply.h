// Reply: an HTTP reply as the daemon's routes and operations produce it.
#ifndef PCIPASS_DAEMON_HTTP_REPLY_H_
#define PCIPASS_DAEMON_HTTP_REPLY_H_

#include <string>

namespace pcipass::daemon {

struct Reply {
  int http_status = 200;
  std::string body;  // JSON text
  std::string content_type = "application/json";
};

}  // namespace pcipass::daemon

#endif  // PCIPASS_DAEMON_HTTP_REPLY_H_
