// heapdrift serve feeding the monitoring people already run: Debian's
// promtool lints a scrape and unit-tests the shipped rules; a real
// Prometheus (127.0.0.1, 1 s scrape and evaluation) scrapes the daemon while
// the session-leak example runs leaking and fixed side by side, loads the
// shipped rules with shortened windows, fires the session alert for the
// leak only, and Alertmanager delivers it to a webhook in the test.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "paths.h"
#include "serve_daemon.h"
#include "spawned_process.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

using namespace std::chrono_literals;

const std::string kRules = std::string(kSourceDir) + "/contrib/prometheus/heapdrift-rules.yml";

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

Environment AgentEnvironment(const ServeDaemon& daemon) {
  return {{"LD_PRELOAD", kAgentPath},
          {"HEAPDRIFT_OUTPUT", "unix:" + daemon.socket()},
          {"HEAPDRIFT_SERVICE", "shop"},
          {"HEAPDRIFT_INTERVAL_MS", "250"}};
}

TEST(ServeMonitoring, ShippedRulesPassPromtoolAndTheirUnitTests) {
  ProcessResult check = RunProcess({"promtool", "check", "rules", kRules});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err << "\n(install prometheus)";
  ProcessResult test = RunProcess(
      {"promtool", "test", "rules",
       std::string(kSourceDir) + "/contrib/prometheus/heapdrift-rules.test.yml"});
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
  EXPECT_NE(test.out.find("SUCCESS"), std::string::npos) << test.out;
}

TEST(ServeMonitoring, AScrapePassesPromtoolCheckMetrics) {
  TempDir dir;
  ServeDaemon daemon(dir, {"--refresh", "200ms", "--top", "3", "--group",
                           "session=SessionStore::|Session::Session", "--group", "pages=RenderPage"});
  ASSERT_TRUE(daemon.Start()) << daemon.Log();
  SpawnedProcess agent({std::string(kExamplesDir) + "/session_leak", "--duration-sec", "6"},
                       AgentEnvironment(daemon), dir.File("agent.log"));
  std::this_thread::sleep_for(4s);
  HttpAnswer scrape = daemon.Get("/metrics");
  ASSERT_EQ(scrape.status, 200);
  EXPECT_EQ(scrape.content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::ofstream(dir.File("scrape.prom")) << scrape.body;
  ProcessResult lint = RunProcess(
      {"sh", "-c", "promtool check metrics < " + dir.File("scrape.prom")});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err << scrape.body;
  EXPECT_EQ(lint.out + lint.err, "") << "promtool found something to say";

  std::string identity = "service_name=\"shop\",pid=\"" + std::to_string(agent.pid()) + "\"";
  EXPECT_NE(scrape.body.find("heapdrift_group_live_bytes{" + identity +
                             ",comm=\"session_leak\",group=\"session\"}"),
            std::string::npos) << scrape.body;
  EXPECT_NE(scrape.body.find("group=\"pages\""), std::string::npos);
  // --top 3: at most 2N = 6 sites stay exported, plus `other`.
  std::regex site_line("heapdrift_site_live_bytes\\{[^}]*site=\"([^\"]+)\"");
  size_t sites = 0;
  bool other = false;
  for (auto it = std::sregex_iterator(scrape.body.begin(), scrape.body.end(), site_line);
       it != std::sregex_iterator(); ++it) {
    ++sites;
    other |= (*it)[1] == "other";
  }
  EXPECT_TRUE(other);
  EXPECT_GE(sites, 3u);
  EXPECT_LE(sites, 7u);
  // Label values are cut before Prometheus' label_value_length_limit would fail the scrape.
  std::regex function_label("function=\"((?:[^\"\\\\]|\\\\.)*)\"");
  for (auto it = std::sregex_iterator(scrape.body.begin(), scrape.body.end(), function_label);
       it != std::sregex_iterator(); ++it) {
    EXPECT_LE((*it)[1].length(), 128u + 8) << (*it)[1];
  }
  EXPECT_EQ(agent.Wait(30), 0);
}

// Prometheus' and Alertmanager's own files, in the test's directory.
struct MonitoringStack {
  int prometheus_port = FreePort();
  int alertmanager_port = FreePort();
  std::unique_ptr<SpawnedProcess> prometheus, alertmanager;
};

// The shipped rules with windows a test can wait for: each replacement must
// find its text, so the rules cannot drift from what is tested here.
std::string ShortenedRules() {
  std::string rules = ReadFile(kRules);
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"[10m]", "[4s]"},
           {"[1h:1m]", "[15s:1s]"},
           {"> 1800", "> 3"},
           {"for: 15m", "for: 5s"}}) {
    size_t at = rules.find(from);
    EXPECT_NE(at, std::string::npos) << from << " is no longer in " << kRules;
    if (at != std::string::npos) rules.replace(at, from.size(), to);
  }
  return rules;
}

TEST(ServeMonitoring, TheSessionAlertFiresInPrometheusForTheLeakOnlyAndReachesAWebhook) {
  TempDir dir;
  ServeDaemon daemon(dir, {"--refresh", "500ms", "--window", "20s", "--group",
                           "session=SessionStore::|Session::Session"});
  ASSERT_TRUE(daemon.Start()) << daemon.Log();

  // The webhook Alertmanager notifies.
  httplib::Server webhook;
  std::mutex received_mutex;
  std::string received;
  webhook.Post("/alert", [&](const httplib::Request& request, httplib::Response& response) {
    std::lock_guard lock(received_mutex);
    received += request.body;
    response.set_content("ok", "text/plain");
  });
  int webhook_port = webhook.bind_to_any_port("127.0.0.1");
  std::thread webhook_thread([&] { webhook.listen_after_bind(); });
  struct StopServer {
    httplib::Server& server;
    std::thread& thread;
    ~StopServer() {
      server.stop();
      thread.join();
    }
  } stop_webhook{webhook, webhook_thread};

  MonitoringStack stack;
  std::ofstream(dir.File("rules.yml")) << ShortenedRules();
  std::ofstream(dir.File("alertmanager.yml"))
      << "route: {receiver: test, group_wait: 1s, group_interval: 1s, repeat_interval: 1h}\n"
         "receivers:\n- name: test\n  webhook_configs:\n  - url: http://127.0.0.1:"
      << webhook_port << "/alert\n";
  std::ofstream(dir.File("prometheus.yml"))
      << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
         "rule_files: ['" << dir.File("rules.yml") << "']\n"
         "alerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['127.0.0.1:"
      << stack.alertmanager_port << "']\n"
         "scrape_configs:\n- job_name: heapdrift\n  static_configs:\n  - targets: ['127.0.0.1:"
      << daemon.port() << "']\n";
  stack.alertmanager = std::make_unique<SpawnedProcess>(
      std::vector<std::string>{"prometheus-alertmanager", "--config.file=" + dir.File("alertmanager.yml"),
                               "--storage.path=" + dir.File("alertmanager-data"),
                               "--web.listen-address=127.0.0.1:" + std::to_string(stack.alertmanager_port),
                               "--cluster.listen-address="},
      Environment{}, dir.File("alertmanager.log"));
  stack.prometheus = std::make_unique<SpawnedProcess>(
      std::vector<std::string>{"prometheus", "--config.file=" + dir.File("prometheus.yml"),
                               "--storage.tsdb.path=" + dir.File("prometheus-data"),
                               "--web.listen-address=127.0.0.1:" + std::to_string(stack.prometheus_port)},
      Environment{}, dir.File("prometheus.log"));
  auto ready = [](int port) { return HttpGet(port, "/-/ready").status == 200; };
  for (int i = 0; i < 200 && !(ready(stack.prometheus_port) && ready(stack.alertmanager_port)); ++i) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(ready(stack.prometheus_port)) << stack.prometheus->Log() << "\n(install prometheus)";
  ASSERT_TRUE(ready(stack.alertmanager_port)) << stack.alertmanager->Log();
  // Loaded, not merely present: the rule is in Prometheus' own list.
  EXPECT_NE(HttpGet(stack.prometheus_port, "/api/v1/rules").body.find("HeapdriftSessionObjectGrowth"),
            std::string::npos) << stack.prometheus->Log();

  std::string example = std::string(kExamplesDir) + "/session_leak";
  SpawnedProcess leaking({example, "--duration-sec", "60"}, AgentEnvironment(daemon),
                         dir.File("leaking.log"));
  SpawnedProcess fixed({example, "--duration-sec", "60", "--fixed"}, AgentEnvironment(daemon),
                       dir.File("fixed.log"));
  std::string leaking_pid = "\"pid\":\"" + std::to_string(leaking.pid()) + "\"";
  std::string fixed_pid = "\"pid\":\"" + std::to_string(fixed.pid()) + "\"";
  bool fired = false, fixed_alerted = false, notified = false;
  auto deadline = std::chrono::steady_clock::now() + 50s;
  std::string alerts;
  while (std::chrono::steady_clock::now() < deadline && !(fired && notified)) {
    alerts = HttpGet(stack.prometheus_port, "/api/v1/alerts").body;
    nlohmann::json parsed = nlohmann::json::parse(alerts);  // (a loop over a temporary's part dangles)
    for (const auto& alert : parsed["data"]["alerts"]) {
      if (alert["labels"]["alertname"] != "HeapdriftSessionObjectGrowth") continue;
      std::string labels = alert["labels"].dump();
      if (labels.find(leaking_pid) != std::string::npos && alert["state"] == "firing") fired = true;
      if (labels.find(fixed_pid) != std::string::npos) fixed_alerted = true;
    }
    {
      std::lock_guard lock(received_mutex);
      notified = received.find("HeapdriftSessionObjectGrowth") != std::string::npos &&
                 received.find(std::to_string(leaking.pid())) != std::string::npos;
    }
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_TRUE(fired) << alerts << "\n" << daemon.Get("/metrics").body;
  EXPECT_TRUE(notified) << stack.alertmanager->Log();
  EXPECT_FALSE(fixed_alerted) << alerts;
  std::lock_guard lock(received_mutex);
  EXPECT_EQ(received.find(std::to_string(fixed.pid())), std::string::npos) << received;
}

}  // namespace
}  // namespace heapdrift::testing
