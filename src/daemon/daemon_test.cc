// Unit tests of the daemon's pieces that need no process: request
// decoding, auth decisions, error mapping and the metrics text.
#include <gtest/gtest.h>
#include <unistd.h>

#include "daemon/api_error.h"
#include "daemon/auth.h"
#include "daemon/metrics.h"
#include "daemon/routes.h"

namespace pcipass::daemon {
namespace {

const RouteSpec& Route(const std::string& method, const std::string& path) {
  for (const RouteSpec& r : ApiRoutes()) {
    if (r.method == method && r.path == path) return r;
  }
  ADD_FAILURE() << "no route " << method << " " << path;
  return ApiRoutes().front();
}

struct Decoded {
  Result<nlohmann::json> params;
  std::optional<std::string> field;
};

Decoded Decode(const std::string& method, const std::string& path,
               const std::string& body,
               const std::multimap<std::string, std::string>& query = {},
               const std::vector<std::string>& path_values = {}) {
  std::optional<std::string> field;
  auto params =
      DecodeRequest(Route(method, path), path_values, query, body, &field);
  return {std::move(params), field};
}

TEST(DecodeRequest, PostBodyIsTheOperationsParameters) {
  Decoded d = Decode("POST", "/v1/claims",
                     R"({"instance": "vm-1", "request": "nic-vf:2",
                         "detach": false})");
  ASSERT_TRUE(d.params.ok()) << d.params.status().message();
  EXPECT_EQ(*d.params, nlohmann::json::parse(
                           R"({"instance": "vm-1", "request": "nic-vf:2",
                               "detach": false})"));
}

TEST(DecodeRequest, BadBodiesNameTheBody) {
  for (const char* body : {"{", "[1,2]", "\"text\"", "{\"a\": }"}) {
    Decoded d = Decode("POST", "/v1/fit", body);
    ASSERT_FALSE(d.params.ok()) << body;
    EXPECT_EQ(d.params.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(d.field, "body") << body;
  }
  Decoded ctl = Decode("POST", "/v1/claims",
                       R"({"instance": "a\u0001b", "request": "vf:1"})");
  ASSERT_FALSE(ctl.params.ok());
  EXPECT_EQ(ctl.field, "instance");
  // A blank body is an empty object (the service then asks for its
  // required fields).
  Decoded blank = Decode("POST", "/v1/apply", "  ");
  ASSERT_TRUE(blank.params.ok());
  EXPECT_TRUE(blank.params->empty());
}

TEST(DecodeRequest, RouteFixedFieldsCannotBeOverridden) {
  Decoded d = Decode("POST", "/v1/hotunplug",
                     R"({"instance": "vm", "qmp": "/q.sock"})");
  ASSERT_TRUE(d.params.ok());
  EXPECT_EQ((*d.params)["unplug"], true);
  Decoded plug = Decode("POST", "/v1/hotplug",
                        R"({"instance": "vm", "qmp": "/q", "unplug": true})");
  ASSERT_FALSE(plug.params.ok());
  EXPECT_EQ(plug.field, "unplug");
}

TEST(DecodeRequest, PathAndQueryParametersAreTypedAndKnown) {
  Decoded show =
      Decode("GET", "/v1/devices/{address}", "", {}, {"0000:03:00.0"});
  ASSERT_TRUE(show.params.ok());
  EXPECT_EQ(*show.params, (nlohmann::json{{"address", "0000:03:00.0"}}));
  Decoded d = Decode("GET", "/v1/devices", "", {{"assignable", "true"}});
  ASSERT_TRUE(d.params.ok());
  EXPECT_EQ(*d.params, (nlohmann::json{{"assignable", true}}));
  Decoded bad = Decode("GET", "/v1/devices", "", {{"assignable", "maybe"}});
  ASSERT_FALSE(bad.params.ok());
  EXPECT_EQ(bad.field, "assignable");
  Decoded unknown = Decode("GET", "/v1/devices", "", {{"sort", "name"}});
  ASSERT_FALSE(unknown.params.ok());
  EXPECT_EQ(unknown.field, "sort");
  Decoded twice =
      Decode("GET", "/v1/claims", "", {{"instance", "a"}, {"instance", "b"}});
  ASSERT_FALSE(twice.params.ok());
  EXPECT_EQ(twice.field, "instance");
  // POST parameters belong in the body; "wait" only on long operations.
  Decoded posted = Decode("POST", "/v1/fit", R"({"request":"a:1"})",
                          {{"placement", "pack"}});
  ASSERT_FALSE(posted.params.ok());
  EXPECT_EQ(posted.field, "placement");
  EXPECT_TRUE(
      Decode("POST", "/v1/detach", R"({"addresses":["x"]})", {{"wait", "true"}})
          .params.ok());
  EXPECT_FALSE(
      Decode("POST", "/v1/fit", R"({"request":"a:1"})", {{"wait", "true"}})
          .params.ok());
}

TEST(ToHttpReply, StatusAndErrorShape) {
  const RouteSpec& fit = Route("POST", "/v1/fit");
  const RouteSpec& claim = Route("POST", "/v1/claims");
  service::Reply no;
  no.status = Status::FailedPrecondition("does not fit");
  no.json = {{"fits", false}};
  EXPECT_EQ(ToHttpReply(fit, no, {}).http_status, 200);  // a "no" answer
  service::Reply refused;
  refused.status = Status::FailedPrecondition("does not fit");
  refused.json = {
      {"claimed", false},
      {"error",
       {{"code", "failed_precondition"}, {"message", "does not fit"}}}};
  Reply r = ToHttpReply(claim, refused, {});
  EXPECT_EQ(r.http_status, 409);
  nlohmann::json j = nlohmann::json::parse(r.body);
  EXPECT_TRUE(j["error"]["field"].is_null());
  EXPECT_FALSE(j["error"]["fix"].get<std::string>().empty());
  service::Reply bad;
  bad.Fail(Status::InvalidArgument(
      "claim body: field \"detach\" must be true or false, got string"));
  r = ToHttpReply(claim, bad, {});
  EXPECT_EQ(r.http_status, 400);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["field"], "detach");
  service::Reply addr;
  addr.Fail(Status::InvalidArgument("0000:zz:00.0: not a PCI address"));
  r = ToHttpReply(Route("GET", "/v1/devices/{address}"), addr,
                  {{"address", "0000:zz:00.0"}});
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["field"], "address");
  service::Reply ok;
  ok.json = {{"claimed", true}};
  EXPECT_EQ(ToHttpReply(claim, ok, {}).http_status, 201);
}

TEST(ApiError, StatusCodesMapToHttp) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusForName("already_exists"), 409);
  EXPECT_EQ(HttpStatusForName("no_such_code"), 500);
  ApiError e =
      FromStatus(Status::NotFound("no device 0000:01:00.0"), "address");
  nlohmann::ordered_json j = e.ToJson();
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_EQ(j["error"]["field"], "address");
  EXPECT_FALSE(j["error"]["fix"].get<std::string>().empty());
}

TEST(Auth, BearerTokenMustMatchExactly) {
  const std::string token = "0123456789abcdef0123";
  EXPECT_FALSE(CheckBearer("Bearer " + token, token).has_value());
  for (const std::string& bad : std::vector<std::string>{
           "", "Bearer", "Bearer " + token + "x", "Bearer " + token.substr(1),
           "Basic " + token, "bearer " + token}) {
    std::optional<ApiError> e = CheckBearer(bad, token);
    ASSERT_TRUE(e.has_value()) << bad;
    EXPECT_EQ(e->http_status, 401);
    EXPECT_EQ(e->code, "unauthenticated");
  }
}

TEST(Auth, PeerNeedsRootOrTheGroup) {
  PeerPolicy root_only;
  EXPECT_FALSE(CheckPeer({1, 0, 0}, root_only).has_value());
  std::optional<ApiError> e = CheckPeer({1, 4242, 4242}, root_only);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->http_status, 403);
  PeerPolicy group;
  group.group = 4242;
  group.group_name = "pcipass";
  EXPECT_FALSE(CheckPeer({1, 4243, 4242}, group).has_value());  // primary gid
  std::optional<ApiError> other = CheckPeer({1, 4243, 4243}, group);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(other->message.find("group pcipass"), std::string::npos);
}

TEST(Auth, UnknownGroupIsNamed) {
  Result<gid_t> g = ResolveGroup("no-such-group-pcipass");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("no-such-group-pcipass"),
            std::string::npos);
  EXPECT_EQ(*ResolveGroup("0"), 0u);
}

TEST(Metrics, LabelsAreEscapedAndLedgerGaugesCounted) {
  Metrics m;
  m.CountRequest("/v1/devices", "GET", 200, 0.002);
  m.CountError("invalid_argument");
  m.ObserveHandoff("claim", 0.2, true);
  m.ObserveReconcile({{"driver_changed", 2}}, 0.01, true, 1700000000);
  LedgerDevice d;
  d.state = DeviceState::kAllocated;
  d.numa_node = 1;
  ClaimRecord c;
  c.instance = "vm-1";
  c.alias_name = "we\"ird";
  c.state = "allocated";
  std::string text = m.Render({d}, {c}, true);
  EXPECT_NE(
      text.find("pcipass_devices{state=\"allocated\",dev_type=\"type-PCI\","
                "numa_node=\"1\"} 1"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("alias=\"we\\\"ird\""), std::string::npos);
  EXPECT_NE(text.find("pcipassd_reconcile_drift_total{kind=\"driver_changed\"}"
                      " 2"),
            std::string::npos);
  EXPECT_NE(text.find("pcipassd_handoff_duration_seconds_count{operation="
                      "\"claim\",result=\"ok\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace pcipass::daemon
