#include "daemon/cli_bridge.h"

#include <sstream>
#include <streambuf>
#include <string>

#include "cli/commands.h"
#include "daemon/api_error.h"

namespace pcipass::daemon {

namespace {

// An unbuffered streambuf that keeps everything written and reports each
// complete line as it is written (progress of long operations).
class LineTap : public std::streambuf {
 public:
  explicit LineTap(const std::function<void(const std::string&)>& on_line)
      : on_line_(on_line) {}
  const std::string& str() const { return all_; }

 protected:
  int_type overflow(int_type ch) override {
    if (ch != traits_type::eof()) Put(static_cast<char>(ch));
    return traits_type::not_eof(ch);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) Put(s[i]);
    return n;
  }

 private:
  void Put(char c) {
    all_ += c;
    if (c != '\n') {
      line_ += c;
      return;
    }
    if (on_line_) on_line_(line_);
    line_.clear();
  }
  const std::function<void(const std::string&)>& on_line_;
  std::string all_;
  std::string line_;
};

}  // namespace

Reply RunCliOperation(const HostFlags& flags,
                      const std::vector<std::string>& args,
                      const std::function<void(const std::string&)>& progress,
                      int success_status) {
  std::vector<std::string> argv = {"pcipass", "--json"};
  if (!flags.root.empty()) argv.push_back("--root=" + flags.root);
  if (!flags.config.empty()) argv.push_back("--config=" + flags.config);
  if (!flags.state.empty()) argv.push_back("--state=" + flags.state);
  if (!flags.pci_ids.empty()) argv.push_back("--pci-ids=" + flags.pci_ids);
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<const char*> cargv;
  cargv.reserve(argv.size());
  for (const std::string& a : argv) cargv.push_back(a.c_str());

  std::ostringstream out;
  LineTap tap(progress);
  std::ostream err(&tap);
  int code = cli::RunCli(static_cast<int>(cargv.size()), cargv.data(), out,
                         err);
  Reply reply;
  reply.body = out.str();
  if (code == 0) {
    reply.http_status = success_status;
    return reply;
  }
  nlohmann::json j = nlohmann::json::parse(reply.body, nullptr, false);
  if (j.is_discarded()) {
    std::string msg = tap.str();
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    ApiError e;
    e.http_status = code == 2 ? 400 : 500;
    e.code = code == 2 ? "invalid_argument" : "internal";
    e.message = msg.empty() ? "the operation failed without a message" : msg;
    reply.http_status = e.http_status;
    reply.body = e.ToJson().dump();
    return reply;
  }
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    nlohmann::json& e = j["error"];
    std::string name = e.value("code", "internal");
    reply.http_status = HttpStatusForName(name);
    if (!e.contains("field")) e["field"] = nullptr;
    if (!e.contains("fix")) e["fix"] = DefaultFixFor(name);
    if (!e.contains("message")) e["message"] = "";
    reply.body = j.dump();
    return reply;
  }
  // Exit 1 with a normal answer: the answer is "no" (not ready, does not
  // fit), which is a successful query.
  reply.http_status = success_status;
  return reply;
}

}  // namespace pcipass::daemon
