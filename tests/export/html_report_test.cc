// The HTML page as text: what it carries and how, without a browser (the
// browser's view is tests/e2e/html_report_test.cc).
#include "html_report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "recording_builder.h"

namespace heapdrift {
namespace {

using testing::RecordingBuilder;

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

// The page's data block, read back as the page's script reads it.
nlohmann::json PageData(const std::string& page) {
  const std::string open = "<script id=\"heapdrift-data\" type=\"application/json\">";
  size_t start = page.find(open) + open.size();
  return nlohmann::json::parse(page.substr(start, page.find("</script>", start) - start));
}

// The page of a one-process report of `recording`, its path `path`.
std::string PageOf(const Recording& recording, const std::string& path) {
  std::vector<ProcessReport> processes(1);
  processes[0].path = path;
  processes[0].recording = recording;
  processes[0].readable = true;
  CallSiteResolver resolver(processes[0].recording);
  processes[0].report = BuildGrowthReport(resolver);
  std::vector<HtmlProcess> detailed = {{&processes[0], BuildHeapMoments(resolver)}};
  return HtmlReportPage(path, processes, detailed, 10);
}

TEST(HtmlPage, TextFromTheRecordingCannotEndItsScriptsOrMarkup) {
  RecordingBuilder builder;
  builder.Stack(1, {0x100});
  builder.Snapshot(0, {{1, 100, 1, 100, 1}});
  builder.Snapshot(1, {{1, 200, 2, 200, 2}});
  Recording recording = builder.Take();
  const std::string hostile = "./server</script><script>alert(1)</script><!--";
  recording.header.set_command_line(0, hostile);
  std::string page = PageOf(recording, "<b>rec</b>");

  // Only the page's own two scripts end; no comment opens.
  EXPECT_EQ(Count(page, "</script>"), 2u);
  EXPECT_EQ(Count(page, "<!--"), 1u);  // the template's note on the content policy
  EXPECT_EQ(page.find("<b>"), std::string::npos);
  EXPECT_NE(page.find("<title>heapdrift report: &lt;b&gt;rec&lt;/b&gt;</title>"), std::string::npos);
  // And the data reads back exactly.
  nlohmann::json data = PageData(page);
  EXPECT_EQ(data["kind"], "report");
  EXPECT_EQ(data["detailed"][0]["command"], hostile);
  EXPECT_EQ(data["detailed"][0]["times"], (nlohmann::json{0, 1}));
  EXPECT_EQ(data["detailed"][0]["memory"]["live_heap"], (nlohmann::json{100, 200}));
  // Nothing to fetch: the content policy forbids it.
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
}

TEST(HtmlPage, InvalidUtf8InANameIsReplacedNotFatal) {
  RecordingBuilder builder;
  builder.Stack(1, {0x100});
  builder.Snapshot(0, {{1, 100, 1, 100, 1}});
  Recording recording = builder.Take();
  recording.header.set_command_line(0, std::string("./srv\xff\xfe", 7));
  nlohmann::json data = PageData(PageOf(recording, "r"));
  EXPECT_EQ(data["detailed"][0]["command"].get<std::string>().rfind("./srv", 0), 0u);
}

}  // namespace
}  // namespace heapdrift
