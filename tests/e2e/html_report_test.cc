// The HTML report opened in a real browser (Debian's headless Chromium): what
// it names, what its charts and flame graphs hold, that it draws without a
// script error, clicks and searches as described, and fetches nothing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "chromium.h"
#include "paths.h"
#include "png_image.h"
#include "recording_builder.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

// The opening tag of the first element carrying `marker` (an attribute),
// and what follows it up to `end`.
std::string ElementText(const std::string& dom, const std::string& marker, const std::string& end) {
  size_t at = dom.find(marker);
  if (at == std::string::npos) return "";
  size_t open = dom.rfind('<', at);
  size_t close = dom.find(end, at);
  return dom.substr(open, close == std::string::npos ? std::string::npos : close - open);
}

struct DrawnPath {
  std::string series;
  int points_attribute = 0;
  int points_drawn = 0;  // M and L commands in d
};

std::vector<DrawnPath> Paths(const std::string& svg) {
  std::vector<DrawnPath> paths;
  std::regex path_tag(R"re(<path class="series [a-z_]+" data-series="([a-z_]+)" data-points="(\d+)" d="([^"]*)")re");
  for (std::sregex_iterator it(svg.begin(), svg.end(), path_tag), end; it != end; ++it) {
    std::string d = (*it)[3];
    int drawn = 0;
    for (char c : d) drawn += c == 'M' || c == 'L';
    paths.push_back({(*it)[1], std::stoi((*it)[2]), drawn});
  }
  return paths;
}

// The text of the first <h3> after `marker`.
std::string FirstHeadingAfter(const std::string& dom, const std::string& marker) {
  size_t at = dom.find(marker);
  if (at == std::string::npos) return "";
  size_t open = dom.find("<h3>", at);
  size_t close = dom.find("</h3>", open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return dom.substr(open + 4, close - open - 4);
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// What every opened page must show: drawn to the end, no script error.
void ExpectDrawnCleanly(const BrowserRun& run) {
  ASSERT_EQ(run.exit_code, 0) << run.log;
  EXPECT_NE(run.dom.find("data-ready=\"1\""), std::string::npos) << run.log;
  EXPECT_EQ(run.dom.find("data-js-errors"), std::string::npos) << run.dom;
  std::vector<std::string> errors = UncaughtErrors(run);
  EXPECT_TRUE(errors.empty()) << errors.front();
}

class HtmlReport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    ProcessResult run = RecordSessionLeak(dir_->File("leak.rec"));
    ASSERT_EQ(run.exit_code, 0) << run.err;
    ProcessResult json = RunProcess({kCliPath, "report", dir_->File("leak.rec"), "--json"});
    ASSERT_EQ(json.exit_code, 0) << json.err;
    first_suspect_ = new nlohmann::json(nlohmann::json::parse(json.out)["suspects"][0]);
    ProcessResult text = RunProcess({kCliPath, "report", dir_->File("leak.rec")});
    std::smatch found;
    ASSERT_TRUE(std::regex_search(text.out, found, std::regex(R"re((\d+) snapshots over)re")))
        << text.out;
    snapshots_ = std::stoi(found[1]);
    ProcessResult html = RunProcess({kCliPath, "report", dir_->File("leak.rec"), "--html",
                                     dir_->File("report.html")});
    ASSERT_EQ(html.exit_code, 0) << html.err;
    BrowserOptions options;
    options.screenshot = dir_->File("report.png");
    opened_ = new BrowserRun(OpenInChromium(dir_->File("report.html"), options));
  }
  static void TearDownTestSuite() {
    delete opened_;
    delete first_suspect_;
    delete dir_;
  }

  static TempDir* dir_;
  static nlohmann::json* first_suspect_;
  static int snapshots_;
  static BrowserRun* opened_;
};
TempDir* HtmlReport::dir_ = nullptr;
nlohmann::json* HtmlReport::first_suspect_ = nullptr;
int HtmlReport::snapshots_ = 0;
BrowserRun* HtmlReport::opened_ = nullptr;

TEST_F(HtmlReport, DrawsWithoutAScriptError) { ExpectDrawnCleanly(*opened_); }

TEST_F(HtmlReport, NamesTheLeakAsSuspectOneWithItsFileAndLine) {
  ASSERT_NE(first_suspect_->find("function"), first_suspect_->end());
  std::string heading = FirstHeadingAfter(opened_->dom, "id=\"suspects\"");
  EXPECT_EQ(heading.rfind("#1 shop::SessionStore::CreateSession(", 0), 0u) << heading;
  std::string location = "session_store.cc:" + std::to_string((*first_suspect_)["line"].get<int>());
  EXPECT_NE(heading.find(location), std::string::npos) << heading << " lacks " << location;
  // The verdict sentence at the top names it too, before any script ran.
  std::string page = ReadFile(dir_->File("report.html"));
  std::string headline = ElementText(page, "id=\"headline\"", "</p>");
  EXPECT_NE(headline.find("CreateSession"), std::string::npos) << headline;
}

TEST_F(HtmlReport, ChartsDrawOnePathPerSeriesWithEveryPoint) {
  std::string memory = ElementText(opened_->dom, "data-chart=\"memory\"", "</svg>");
  std::vector<DrawnPath> paths = Paths(memory);
  std::set<std::string> series;
  for (const DrawnPath& path : paths) {
    series.insert(path.series);
    EXPECT_EQ(path.points_attribute, snapshots_) << path.series;
    EXPECT_EQ(path.points_drawn, snapshots_) << path.series;
  }
  EXPECT_EQ(paths.size(), 4u) << memory;
  EXPECT_EQ(series, (std::set<std::string>{"rss", "in_use", "retained", "live_heap"}));
  // The first suspect's own chart: one line of its live bytes.
  std::string suspects = opened_->dom.substr(opened_->dom.find("id=\"suspects\""));
  std::vector<DrawnPath> site = Paths(ElementText(suspects, "data-chart=\"site\"", "</svg>"));
  ASSERT_EQ(site.size(), 1u);
  EXPECT_EQ(site[0].points_drawn, snapshots_);
  // Axes carry units, and the numbers are there for whoever cannot see the chart.
  EXPECT_NE(memory.find(" MiB</text>"), std::string::npos);
  EXPECT_NE(memory.find("<desc"), std::string::npos);
  EXPECT_NE(opened_->dom.find("The numbers (" + std::to_string(snapshots_) + " points)"),
            std::string::npos);
}

TEST_F(HtmlReport, FlameGraphsHoldTheLeakingFrame) {
  for (const char* kind : {"live", "growth"}) {
    std::string flame = ElementText(opened_->dom, std::string("data-flame=\"") + kind + "\"",
                                    "</svg>");
    EXPECT_NE(flame.find("data-name=\"shop::SessionStore::CreateSession(...)\""),
              std::string::npos)
        << kind;
    // The frame's hover text says where it is, as the text report does.
    EXPECT_NE(flame.find("session_store.cc:"), std::string::npos) << kind;
  }
}

TEST_F(HtmlReport, ScreenshotShowsTheCharts) {
  Image image;
  std::string error;
  ASSERT_TRUE(ReadPng(dir_->File("report.png"), &image, &error)) << error;
  EXPECT_EQ(image.width, 1200u);
  EXPECT_EQ(image.height, 1600u);
  size_t not_white = 0;
  std::set<uint32_t> colours;
  for (uint32_t pixel : image.pixels) {
    not_white += pixel != 0xffffff;
    colours.insert(pixel);
  }
  // Text, axes and four coloured lines: far from a blank page.
  EXPECT_GT(not_white, image.pixels.size() / 50) << not_white;
  EXPECT_GT(colours.size(), 50u);
}

// A script appended to a copy of the page clicks, searches, hovers and picks
// moments as a reader would, and writes what it saw into the DOM.
TEST_F(HtmlReport, ZoomsOnClickSearchesByNameHoversAndComparesChosenMoments) {
  std::string page = ReadFile(dir_->File("report.html"));
  const std::string probe = R"js(<script>
(function () {
  function leaking(svg) {
    return Array.from(svg.querySelectorAll('g.frame:not(.ancestor)')).find(function (g) {
      return g.dataset.name.indexOf('CreateSession') >= 0; });
  }
  var live = document.querySelector('svg[data-flame="live"]');
  document.body.dataset.widthBefore = leaking(live).querySelector('rect').getAttribute('width');
  leaking(live).dispatchEvent(new MouseEvent('click', {bubbles: true}));
  var zoomed = document.querySelector('svg[data-flame="live"]');
  document.body.dataset.widthAfter = leaking(zoomed).querySelector('rect').getAttribute('width');
  document.body.dataset.ancestors = zoomed.querySelectorAll('g.frame.ancestor').length;
  var search = document.querySelector('input[type="search"]');
  search.value = 'session_store.cc';
  search.dispatchEvent(new Event('input'));
  document.body.dataset.matches =
    document.querySelectorAll('svg[data-flame="live"] g.frame.match').length;
  var chart = document.querySelector('svg[data-chart="memory"]');
  var box = chart.getBoundingClientRect();
  chart.dispatchEvent(new MouseEvent('mousemove', {clientX: box.right - 2, clientY: box.top + 20}));
  document.body.dataset.hover = chart.parentNode.querySelector('.tip').textContent;
  var pickers = document.querySelectorAll('select');
  pickers[0].value = pickers[1].value;
  pickers[0].dispatchEvent(new Event('change'));
})();
</script>)js";
  page.insert(page.rfind("</body>"), probe);
  WriteFile(dir_->File("probed.html"), page);
  BrowserRun run = OpenInChromium(dir_->File("probed.html"));
  ExpectDrawnCleanly(run);
  std::smatch found;
  ASSERT_TRUE(std::regex_search(run.dom, found, std::regex(R"re(data-width-before="([0-9.]+)")re")));
  double before = std::stod(found[1]);
  EXPECT_GT(before, 0);
  EXPECT_LT(before, 1000);
  EXPECT_NE(run.dom.find("data-width-after=\"1000.00\""), std::string::npos)
      << "the clicked frame fills the width";
  EXPECT_EQ(run.dom.find("data-ancestors=\"0\""), std::string::npos) << "its callers stay above";
  EXPECT_EQ(run.dom.find("data-matches=\"0\""), std::string::npos);
  EXPECT_NE(run.dom.find("Matching \"session_store.cc\""), std::string::npos);
  EXPECT_NE(run.dom.find("No stack grew between these moments."), std::string::npos);
  // Hovering at the right edge shows the last point's values, with units.
  ASSERT_TRUE(std::regex_search(run.dom, found, std::regex(R"re(data-hover="([^"]*)")re")));
  std::string hover = found[1];
  EXPECT_NE(hover.find("RSS: "), std::string::npos) << hover;
  EXPECT_NE(hover.find("live heap (sampled): "), std::string::npos) << hover;
  EXPECT_NE(hover.find(" MiB"), std::string::npos) << hover;
}

// A loopback port standing in for every server: what it is asked for.
class RequestRecorder {
 public:
  RequestRecorder() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    listen(fd_, 16);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd wait{fd_, POLLIN, 0};
        if (poll(&wait, 1, 100) != 1) continue;
        int client = accept(fd_, nullptr, nullptr);
        if (client < 0) continue;
        char buffer[512] = {};
        pollfd readable{client, POLLIN, 0};
        ssize_t got = poll(&readable, 1, 1000) == 1 ? read(client, buffer, sizeof(buffer) - 1) : 0;
        std::string request(buffer, got > 0 ? static_cast<size_t>(got) : 0);
        std::lock_guard lock(mutex_);
        requests_.push_back(request.substr(0, request.find('\r')));
        close(client);
      }
    });
  }
  ~RequestRecorder() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// Chromium calls its own services (the clock, the component updater, the
// accounts service) whatever the page; those are not the page's fetches.
bool ChromiumsOwn(const std::string& request_line) {
  std::smatch host;
  if (!std::regex_search(request_line, host, std::regex(R"re(^[A-Z]+ (?:https?://)?([^/: ]+))re"))) {
    return false;
  }
  for (const char* service : {".google.com", ".googleapis.com", ".gvt1.com", ".gstatic.com"}) {
    std::string name = host[1];
    if (name.size() >= std::strlen(service) &&
        name.compare(name.size() - std::strlen(service), std::string::npos, service) == 0) {
      return true;
    }
  }
  return false;
}

TEST_F(HtmlReport, FetchesNothingWhenOpened) {
  // Every address in the page is the SVG namespace, which names and fetches nothing.
  std::string page = ReadFile(dir_->File("report.html"));
  for (size_t at = page.find("://"); at != std::string::npos; at = page.find("://", at + 1)) {
    EXPECT_EQ(page.compare(at - 4, 26, "http://www.w3.org/2000/svg"), 0) << page.substr(at - 4, 60);
  }
  EXPECT_EQ(page.find(" src="), std::string::npos);
  // With every connection sent to a port that records it, the page asks for
  // nothing (and its policy refused nothing: ExpectDrawnCleanly).
  RequestRecorder proxy;
  BrowserOptions options;
  options.proxy_port = proxy.port();
  BrowserRun run = OpenInChromium(dir_->File("report.html"), options);
  ExpectDrawnCleanly(run);
  for (const std::string& request : proxy.requests()) {
    EXPECT_TRUE(ChromiumsOwn(request)) << "the page fetched: " << request;
  }
}

// Synthetic recordings: none, one, and a day of snapshots of many sites.
Recording Synthetic(int snapshots, int sites, int changed_per_snapshot) {
  RecordingBuilder builder(512 * 1024);
  for (int site = 0; site < sites; ++site) {
    // Each site its own allocating frame, callers shared among many.
    builder.Stack(static_cast<uint32_t>(site + 1),
                  {0x100u + static_cast<uint64_t>(site), 0x9000u + static_cast<uint64_t>(site % 97),
                   0xf000u});
  }
  for (int s = 0; s < snapshots; ++s) {
    std::vector<SiteValues> changed;
    if (s == 0) {
      for (int site = 0; site < sites; ++site) {
        changed.push_back({static_cast<uint32_t>(site + 1), 1024, 1, 1024, 1});
      }
    } else {
      for (int k = 0; k < changed_per_snapshot; ++k) {
        int site = (s * changed_per_snapshot + k) % sites;
        // The rest wander; site 1 leaks steadily, 64 KiB per snapshot (below).
        int64_t live = 1024 + 512 * ((s + k) % 5);
        changed.push_back({static_cast<uint32_t>(site + 1), live, live / 512,
                           static_cast<uint64_t>(live) * 2, 4});
      }
      changed.push_back({1, 1024 + 65536LL * s, 1LL * s + 1, 65536ULL * s + 1024, 1ULL * s + 1});
    }
    proto::Snapshot& snapshot = builder.Snapshot(s * 24.0, changed);
    snapshot.mutable_memory()->set_rss_bytes(64ULL << 20 | static_cast<uint64_t>(s) << 12);
  }
  Recording recording = builder.Take();
  recording.header.set_cohorts(0);  // no age by cohort: judged by the series alone
  return recording;
}

TEST(HtmlReportOfSyntheticRecordings, NoSnapshotAndOneSnapshotDrawCleanly) {
  TempDir dir;
  for (int snapshots : {0, 1}) {
    SCOPED_TRACE(snapshots);
    WriteFile(dir.File("r.rec"), RecordingFileBytes(Synthetic(snapshots, 3, 1)));
    ProcessResult html = RunProcess({kCliPath, "report", dir.File("r.rec"), "--html",
                                     dir.File("r.html")});
    ASSERT_EQ(html.exit_code, 0) << html.err;
    BrowserRun run = OpenInChromium(dir.File("r.html"));
    ExpectDrawnCleanly(run);
    if (snapshots == 0) {
      EXPECT_NE(run.dom.find("no snapshot"), std::string::npos);
      EXPECT_EQ(run.dom.find("<path"), std::string::npos);
    } else {
      std::vector<DrawnPath> paths = Paths(ElementText(run.dom, "data-chart=\"memory\"", "</svg>"));
      ASSERT_EQ(paths.size(), 2u);  // RSS and the live heap: no allocator statistics here
      for (const DrawnPath& path : paths) EXPECT_EQ(path.points_drawn, 1);
      EXPECT_NE(run.dom.find("no growth between two moments"), std::string::npos);
    }
  }
}

// The issue's day: 3,600 snapshots of 20,000 call sites.
TEST(HtmlReportOfSyntheticRecordings, ADayOfTwentyThousandSitesStaysSmallAndOpens) {
  TempDir dir;
  WriteFile(dir.File("day.rec"), RecordingFileBytes(Synthetic(3600, 20000, 40)));
  auto start = std::chrono::steady_clock::now();
  ProcessResult html = RunProcess({kCliPath, "report", dir.File("day.rec"), "--html",
                                   dir.File("day.html")}, {}, 300);
  double report_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(html.exit_code, 0) << html.err;
  size_t size = ReadFile(dir.File("day.html")).size();
  EXPECT_LT(size, 2u << 20) << "the page must stay under 2 MiB";
  start = std::chrono::steady_clock::now();
  BrowserRun run = OpenInChromium(dir.File("day.html"));
  double open_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ExpectDrawnCleanly(run);
  EXPECT_NE(run.dom.find(" of 20000 call sites grow"), std::string::npos)
      << ElementText(run.dom, "id=\"headline\"", "</p>");
  EXPECT_NE(run.dom.find("#1 libfake.so+0x100ff"), std::string::npos) << "the one leaking site";
  EXPECT_NE(run.dom.find("data-flame=\"live\""), std::string::npos);
  EXPECT_NE(run.dom.find("smaller stacks"), std::string::npos) << "the rest is summed, not dropped";
  std::printf("[ measured ] page %zu bytes; report %.1f s; opened and drawn in %.1f s\n", size,
              report_seconds, open_seconds);
}

TEST(HtmlCheckPage, ShowsEachLeakWithItsStackAndAFlameGraph) {
  TempDir dir;
  ProcessResult check = RunProcess({kCliPath, "check", "--html", dir.File("leaks.html"), "--",
                                    Host("leak_kinds")});
  EXPECT_NE(check.exit_code, 0) << check.err;
  BrowserRun run = OpenInChromium(dir.File("leaks.html"));
  ExpectDrawnCleanly(run);
  EXPECT_NE(run.dom.find("data-failed=\"1\""), std::string::npos);
  EXPECT_NE(run.dom.find("1.1 KiB in 1 object leaked at Leak (hosts/leak_kinds.c:"),
            std::string::npos)
      << run.dom;
  std::string flame = ElementText(run.dom, "data-flame=\"leaks\"", "</svg>");
  EXPECT_NE(flame.find("data-name=\"Leak\""), std::string::npos) << flame;
  EXPECT_NE(flame.find("data-name=\"main\""), std::string::npos) << flame;
}

TEST(HtmlReportCommand, RefusesAnUnwritablePageBeforeReading) {
  TempDir dir;
  ProcessResult html = RunProcess({kCliPath, "report", dir.File("missing.rec"), "--html",
                                   dir.File("no/such/dir/r.html")});
  EXPECT_EQ(html.exit_code, 1) << html.err;
  EXPECT_EQ(LinesStartingWith(html.err, "heapdrift:").size(), 1u) << html.err;
  ProcessResult both = RunProcess({kCliPath, "report", dir.File("missing.rec"), "--html",
                                   dir.File("r.html"), "--json"});
  EXPECT_EQ(both.exit_code, 2) << both.err;
}

}  // namespace
}  // namespace heapdrift::testing
