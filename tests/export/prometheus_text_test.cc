// The Prometheus exposition's own rules: one HELP and TYPE per family, no
// empty families, label values escaped and cut where Prometheus would fail
// a scrape. (promtool lints a real scrape in tests/e2e/serve_monitoring_test.cc.)
#include "prometheus_text.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

namespace heapdrift {
namespace {

ProcessMetrics Process(uint32_t pid) {
  ProcessMetrics process;
  process.service_name = "shop";
  process.pid = pid;
  process.comm = "server";
  process.sites = {{"2341b71409a7f101", "CreateSession", 1000, 10, 50.5, 0.99},
                   {"other", "other", 20, 1, 0, 0}};
  process.groups = {{"session", 1000, 50.5, 0.99}};
  process.samples = 7;
  return process;
}

TEST(PrometheusText, EachFamilyOnceWithItsSamplesTogether) {
  std::string text = PrometheusText({Process(1), Process(2)}, {}, 600);
  std::map<std::string, int> help, type;
  std::string family;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string first, second, name;
    words >> first >> second >> name;
    if (first == "#" && second == "HELP") {
      ++help[name];
      family = name;
    } else if (first == "#" && second == "TYPE") {
      ++type[name];
      std::string kind;
      words >> kind;
      bool counter_name = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
      EXPECT_EQ(kind == "counter", counter_name) << name;
    } else {
      EXPECT_EQ(line.compare(0, family.size(), family), 0) << line << " outside " << family;
    }
  }
  for (const auto& [name, count] : help) {
    EXPECT_EQ(count, 1) << name;
    EXPECT_EQ(type[name], 1) << name;
  }
  EXPECT_NE(text.find("heapdrift_site_live_bytes{service_name=\"shop\",pid=\"2\",comm=\"server\","
                      "site=\"2341b71409a7f101\",function=\"CreateSession\"} 1000\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("heapdrift_site_growth_bytes_per_second{service_name=\"shop\",pid=\"1\","
                      "comm=\"server\",site=\"2341b71409a7f101\",function=\"CreateSession\"} 50.5\n"),
            std::string::npos);
  EXPECT_NE(text.find("the last 600 s"), std::string::npos) << "the window is stated in HELP";
  EXPECT_EQ(text.back(), '\n');
}

TEST(PrometheusText, FamiliesWithoutSamplesAreLeftOut) {
  std::string text = PrometheusText({}, {}, 600);
  EXPECT_EQ(text.find("heapdrift_site_live_bytes"), std::string::npos);
  EXPECT_NE(text.find("heapdrift_agents 0\n"), std::string::npos) << text;
  ProcessMetrics no_allocator = Process(1);
  text = PrometheusText({no_allocator}, {}, 600);
  EXPECT_EQ(text.find("heapdrift_allocator_in_use_bytes"), std::string::npos)
      << "glibc's counts only when the allocator is glibc's";
}

TEST(PrometheusText, LabelValuesAreEscapedAndCutOnACharacterBoundary) {
  EXPECT_EQ(PrometheusLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  std::string long_name(200, 'x');
  EXPECT_EQ(PrometheusLabelValue(long_name), std::string(125, 'x') + "...");
  std::string accented = std::string(124, 'x') + "\xc3\xa9\xc3\xa9";  // é é across the cut
  std::string cut = PrometheusLabelValue(accented + std::string(10, 'y'));
  EXPECT_EQ(cut, std::string(124, 'x') + "...");
  EXPECT_LE(cut.size(), kMaxLabelValueBytes);
}

}  // namespace
}  // namespace heapdrift
