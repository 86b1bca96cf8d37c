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
  Result<std::vector<std::string>> args;
  std::optional<std::string> field;
};

Decoded Decode(const std::string& method, const std::string& path,
               const std::string& body,
               std::multimap<std::string, std::string> query = {},
               std::vector<std::string> path_values = {}) {
  std::optional<std::string> field;
  auto args =
      DecodeRequest(Route(method, path), path_values, query, body, &field);
  return {std::move(args), field};
}

TEST(DecodeRequest, ClaimBodyBecomesCliArguments) {
  Decoded d = Decode("POST", "/v1/claims",
                     R"({"instance": "vm-1", "request": "nic-vf:2",
                         "detach": false, "numa_policy": "preferred"})");
  ASSERT_TRUE(d.args.ok()) << d.args.status().message();
  EXPECT_EQ(*d.args,
            (std::vector<std::string>{"claim", "--instance=vm-1",
                                      "--numa-policy=preferred",
                                      "--no-detach", "--", "nic-vf:2"}));
}

TEST(DecodeRequest, ValuesThatLookLikeFlagsStayValues) {
  Decoded d = Decode("POST", "/v1/claims",
                     R"({"instance": "--json", "request": "--help"})");
  ASSERT_TRUE(d.args.ok());
  EXPECT_EQ((*d.args)[1], "--instance=--json");
  EXPECT_EQ(d.args->back(), "--help");
  EXPECT_EQ((*d.args)[d.args->size() - 2], "--");
}

TEST(DecodeRequest, BadBodiesNameTheField) {
  struct Case {
    std::string body;
    std::string field;
    std::string says;
  } cases[] = {
      {"{", "body", "not valid JSON"},
      {"[1,2]", "body", "must be a JSON object"},
      {R"({"instance":"vm","request":"a:1","colour":"red"})", "colour",
       "unknown field 'colour'"},
      {R"({"instance":7,"request":"a:1"})", "instance", "must be a string"},
      {R"({"instance":"vm"})", "request", "request is required"},
      {R"({"instance":"vm","request":"a:1","detach":"no"})", "detach",
       "must be a boolean"},
      {R"({"instance":"vm","request":"a:1","numa_policy":"any"})",
       "numa_policy", "accepted: required, legacy, preferred, socket"},
      {R"({"instance":"","request":"a:1"})", "instance", "must not be empty"},
      {"{\"instance\":\"a\\nb\",\"request\":\"a:1\"}", "instance",
       "control character"},
  };
  for (const Case& c : cases) {
    Decoded d = Decode("POST", "/v1/claims", c.body);
    ASSERT_FALSE(d.args.ok()) << c.body;
    EXPECT_EQ(d.args.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(d.field.value_or("<none>"), c.field) << c.body;
    EXPECT_NE(d.args.status().message().find(c.says), std::string::npos)
        << c.body << " -> " << d.args.status().message();
  }
}

TEST(DecodeRequest, AddressesAreCheckedBeforeTheOperationRuns) {
  Decoded d = Decode("GET", "/v1/devices/{address}", "", {}, {"0000:zz:00.0"});
  ASSERT_FALSE(d.args.ok());
  EXPECT_EQ(d.field, "address");
  Decoded ok = Decode("GET", "/v1/devices/{address}", "", {}, {"0000:03:00.0"});
  ASSERT_TRUE(ok.args.ok());
  EXPECT_EQ(*ok.args,
            (std::vector<std::string>{"show", "--", "0000:03:00.0"}));
  Decoded list = Decode("POST", "/v1/detach",
                        R"({"addresses": ["0000:03:00.0", "nope"]})");
  ASSERT_FALSE(list.args.ok());
  EXPECT_EQ(list.field, "addresses");
  Decoded empty = Decode("POST", "/v1/detach", R"({"addresses": []})");
  ASSERT_FALSE(empty.args.ok());
  EXPECT_EQ(empty.field, "addresses");
}

TEST(DecodeRequest, QueryParametersAreTypedAndKnown) {
  Decoded d = Decode("GET", "/v1/devices", "", {{"assignable", "true"}});
  ASSERT_TRUE(d.args.ok());
  EXPECT_EQ(*d.args, (std::vector<std::string>{"list", "--assignable"}));
  Decoded bad = Decode("GET", "/v1/devices", "", {{"assignable", "maybe"}});
  ASSERT_FALSE(bad.args.ok());
  EXPECT_EQ(bad.field, "assignable");
  Decoded unknown = Decode("GET", "/v1/devices", "", {{"sort", "name"}});
  ASSERT_FALSE(unknown.args.ok());
  EXPECT_EQ(unknown.field, "sort");
  Decoded twice =
      Decode("GET", "/v1/claims", "", {{"instance", "a"}, {"instance", "b"}});
  ASSERT_FALSE(twice.args.ok());
  EXPECT_EQ(twice.field, "instance");
  Decoded missing = Decode("GET", "/v1/usage", "");
  ASSERT_FALSE(missing.args.ok());
  EXPECT_EQ(missing.field, "since");
  // POST parameters belong in the body.
  Decoded posted = Decode("POST", "/v1/fit", R"({"request":"a:1"})",
                          {{"placement", "pack"}});
  ASSERT_FALSE(posted.args.ok());
  EXPECT_EQ(posted.field, "placement");
}

TEST(DecodeRequest, IntegersAndFlagPairs) {
  Decoded d = Decode("POST", "/v1/sriov",
                     R"({"pf":"0000:3b:00.0","numvfs":4,"autoprobe":false})");
  ASSERT_TRUE(d.args.ok()) << d.args.status().message();
  EXPECT_EQ(*d.args,
            (std::vector<std::string>{"sriov", "--numvfs=4", "--no-autoprobe",
                                      "--", "0000:3b:00.0"}));
  Decoded frac =
      Decode("POST", "/v1/sriov", R"({"pf":"0000:3b:00.0","numvfs":1.5})");
  ASSERT_FALSE(frac.args.ok());
  EXPECT_EQ(frac.field, "numvfs");
  Decoded neg =
      Decode("POST", "/v1/sriov", R"({"pf":"0000:3b:00.0","numvfs":-1})");
  ASSERT_FALSE(neg.args.ok());
  EXPECT_EQ(neg.field, "numvfs");
}

TEST(ApiError, StatusCodesMapToHttp) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusForName("already_exists"), 409);
  EXPECT_EQ(HttpStatusForName("no_such_code"), 500);
  ApiError e = FromStatus(Status::NotFound("no device 0000:01:00.0"), "address");
  nlohmann::ordered_json j = e.ToJson();
  EXPECT_EQ(j["error"]["code"], "not_found");
  EXPECT_EQ(j["error"]["field"], "address");
  EXPECT_FALSE(j["error"]["fix"].get<std::string>().empty());
}

TEST(Auth, BearerTokenMustMatchExactly) {
  const std::string token = "0123456789abcdef0123";
  EXPECT_FALSE(CheckBearer("Bearer " + token, token).has_value());
  for (const std::string& bad : std::vector<std::string>{
           "", "Bearer", "Bearer " + token + "x",
                          "Bearer " + token.substr(1), "Basic " + token,
                          "bearer " + token}) {
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
  EXPECT_NE(text.find("pcipass_devices{state=\"allocated\",dev_type=\"type-PCI\","
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
