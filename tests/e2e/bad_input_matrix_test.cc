// Every subcommand against every kind of bad input: one line on stderr
// starting "heapdrift:", the documented exit code, and not a byte changed in
// any file that was there before (inputs, and outputs that already existed).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "heapdrift.pb.h"
#include "paths.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "text_files.h"

namespace heapdrift::testing {
namespace {

namespace fs = std::filesystem;

struct BadInput {
  const char* name;
  std::vector<std::string> args;  // "{good}" etc. are files of the fixture
  int exit_code;
  std::string says;  // part of the one error line
};

// Exit codes, as README.md documents them.
constexpr int kCannotRun = 1, kUsage = 2, kBadRecording = 3, kNewerFormat = 4;
constexpr int kNotFound = 127, kNotExecutable = 126;

std::vector<BadInput> Matrix() {
  std::vector<BadInput> cases;
  // The commands that read a recording, each against each bad recording.
  std::vector<std::vector<std::string>> readers = {
      {"inspect"}, {"report"}, {"diff"}, {"export", "--format", "pprof", "-o", "{new}"},
      {"report", "--html", "{new}"}};
  struct BadFile {
    const char* file;
    int exit_code;
    const char* says;
  };
  std::vector<BadFile> bad_files = {{"{missing}", kBadRecording, "cannot open"},
                                    {"{empty}", kBadRecording, "empty"},
                                    {"{dir}", kBadRecording, ""},
                                    {"{cut}", kBadRecording, "not a heapdrift recording"},
                                    {"{noise}", kBadRecording, "not a heapdrift recording"},
                                    {"{future}", kNewerFormat, "format 99"}};
  for (const auto& reader : readers) {
    for (const BadFile& bad : bad_files) {
      std::vector<std::string> args = {reader[0], bad.file};
      args.insert(args.end(), reader.begin() + 1, reader.end());
      cases.push_back({"reader", args, bad.exit_code, bad.says});
    }
    std::vector<std::string> unknown = {reader[0], "{good}"};
    unknown.insert(unknown.end(), reader.begin() + 1, reader.end());
    unknown.push_back("--frobnicate");
    cases.push_back({"unknown flag", unknown, kUsage, "unknown option --frobnicate"});
  }
  auto add = [&](const char* name, std::vector<std::string> args, int code, std::string says) {
    cases.push_back({name, std::move(args), code, says});
  };
  // Bad numbers.
  for (const char* top : {"0", "-1", "1.5", "1e3", "x", "99999999999999999999"}) {
    add("report --top", {"report", "{good}", "--top", top}, kUsage, "--top");
    add("inspect --top", {"inspect", "{good}", "--top", top}, kUsage, "--top");
    add("diff --top", {"diff", "{good}", "--top", top}, kUsage, "--top");
  }
  for (const char* seconds : {"-1", "nan", "inf", "1e400", "soon"}) {
    add("report --from", {"report", "{good}", "--from", seconds}, kUsage, "--from");
    add("diff --to", {"diff", "{good}", "--to", seconds}, kUsage, "--to");
    add("export --at", {"export", "{good}", "--format", "folded", "-o", "{new}", "--at", seconds},
        kUsage, "--at");
  }
  add("report empty window", {"report", "{good}", "--from", "1000"}, kUsage, "no snapshot");
  add("diff backwards", {"diff", "{good}", "--from", "0.4", "--to", "0.1"}, kUsage, "--from");
  add("diff one snapshot", {"diff", "{one}"}, kUsage, "only one snapshot");
  // Outputs that cannot be written: nothing else is touched.
  add("export into a directory", {"export", "{good}", "--format", "pprof", "-o", "{dir}"},
      kCannotRun, "");
  add("export into a missing directory",
      {"export", "{good}", "--format", "folded", "-o", "{dir}/no/such/x"}, kCannotRun, "");
  add("export to a full disk", {"export", "{good}", "--format", "pprof", "-o", "/dev/full"},
      kCannotRun, "");
  add("export bad format", {"export", "{good}", "--format", "svg", "-o", "{existing}"}, kUsage,
      "--format");
  // run.
  add("run missing program", {"run", "-o", "{existing}", "--", "{missing}"}, kNotFound,
      "cannot run");
  add("run not executable", {"run", "-o", "{existing}", "--", "{noise}"}, kNotExecutable,
      "cannot run");
  add("run unknown flag", {"run", "-o", "{existing}", "--frobnicate", "--", "true"}, kUsage,
      "unknown option --frobnicate");
  add("run no output", {"run", "--", "true"}, kUsage, "--output");
  add("run dormant with output", {"run", "--dormant", "-o", "{dir}/x.rec", "--", "true"}, kUsage,
      "excludes");
  add("attach no pid", {"attach"}, kUsage, "pid");
  add("attach bad pid", {"attach", "-3"}, kUsage, "pid");
  add("attach no such process", {"attach", "4194304"}, 5, "no process");
  add("attach bad duration", {"attach", "1", "--duration", "0s"}, kUsage, "--duration");
  add("attach bad stream", {"attach", "1", "--stream", "/tmp/x.sock"}, kUsage, "unix:");
  add("run output is a directory", {"run", "-o", "{dir}", "--", "true"}, kCannotRun, "directory");
  add("run output in a missing directory", {"run", "-o", "{dir}/no/such/x.rec", "--", "true"},
      kCannotRun, "cannot write");
  add("run to a full disk", {"run", "-o", "/dev/full", "--", "true"}, kCannotRun,
      "not a regular file");
  for (std::vector<std::string> flag :
       {std::vector<std::string>{"--sample-bytes", "0"}, {"--sample-bytes", "-1"},
        {"--sample-bytes", "2TiB"}, {"--interval-ms", "9"}, {"--interval-ms", "1.5"},
        {"--interval-ms", "many"}}) {
    add("run bad number", {"run", flag[0], flag[1], "-o", "{existing}", "--", "true"}, kUsage,
        flag[0].c_str());
  }
  // check.
  add("check missing program", {"check", "--", "{missing}"}, kNotFound, "cannot run");
  add("check unknown flag", {"check", "--frobnicate", "--", "true"}, kUsage,
      "unknown option --frobnicate");
  add("check unwritable json", {"check", "--json", "{dir}/no/such/x.json", "--", "true"},
      kCannotRun, "cannot write");
  add("check json is a directory", {"check", "--json", "{dir}", "--", "true"}, kCannotRun,
      "directory");
  add("check missing suppressions", {"check", "--suppressions", "{missing}", "--", "true"}, kUsage,
      "suppressions");
  add("check bad suppressions", {"check", "--suppressions", "{noise}", "--", "true"}, kUsage,
      "expected 'leak:PATTERN'");
  add("check recordings dir in use", {"check", "--recordings", "{dir}", "--", "true"}, kCannotRun,
      "not empty");
  for (std::vector<std::string> flag :
       {std::vector<std::string>{"--max-growth", "-5"}, {"--max-growth", "fast"},
        {"--max-leak-bytes", "-1"}, {"--max-leak-bytes", "1.5"}, {"--top", "0"},
        {"--timeout", "0"}, {"--timeout", "1w"}, {"--sample-bytes", "0"}}) {
    add("check bad number", {"check", flag[0], flag[1], "--", "true"}, kUsage, flag[0].c_str());
  }
  // record.
  add("record not unix:", {"record", "--listen", "{dir}/x.sock", "-o", "{new}"}, kUsage,
      "unix:");
  add("record on a file", {"record", "--listen", "unix:{existing}", "-o", "{new}"}, kCannotRun,
      "not a socket");
  add("record on a directory", {"record", "--listen", "unix:{dir}", "-o", "{new}"}, kCannotRun,
      "not a socket");
  add("record unwritable output",
      {"record", "--listen", "unix:{dir}/../r.sock", "-o", "{dir}/no/such/x.rec"}, kCannotRun,
      "cannot write");
  add("record bad interval", {"record", "--listen", "unix:{dir}/../r.sock", "-o", "{new}",
                              "--live-interval", "0"},
      kUsage, "--live-interval");
  // serve.
  add("serve not unix:", {"serve", "--listen", "{dir}/s.sock", "--dir", "{dir}/kept"}, kUsage,
      "unix:");
  add("serve on a file", {"serve", "--listen", "unix:{existing}", "--dir", "{dir}/kept"},
      kCannotRun, "not a socket");
  add("serve unwritable dir", {"serve", "--listen", "unix:{dir}/../s.sock", "--dir",
                               "{existing}/kept"},
      kCannotRun, "cannot create");
  add("serve open to the network", {"serve", "--listen", "unix:{dir}/../s.sock", "--dir",
                                    "{dir}/kept", "--http", "0.0.0.0:9464"},
      kUsage, "loopback");
  for (std::vector<std::string> flag :
       {std::vector<std::string>{"--max-disk", "-1"}, {"--max-disk", "1KiB"}, {"--top", "0"},
        {"--retain", "0s"}, {"--window", "1s"}, {"--refresh", "nan"}, {"--http", "::1"},
        {"--group", "x"}, {"--socket-group", "no-such-group-here"}}) {
    add("serve bad value", {"serve", "--listen", "unix:{dir}/../s.sock", "--dir", "{dir}/kept",
                            flag[0], flag[1]},
        kUsage, flag[0].c_str());
  }
  // The command itself.
  add("no command", {"no-such-command"}, kUsage, "");
  return cases;
}

class BadInputMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    ProcessResult run = RunProcess({kCliPath, "run", "--interval-ms", "50", "-o", File("good.rec"),
                                    "--", std::string(kExamplesDir) + "/session_leak",
                                    "--duration-sec", "0.5"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    ASSERT_EQ(RunProcess({kCliPath, "run", "--interval-ms", "3600000", "-o", File("one.rec"), "--",
                          "true"})
                  .exit_code,
              0);
    std::string good = ReadFile(File("good.rec"));
    Write("cut.rec", good.substr(0, 3));
    Write("empty.rec", "");
    std::mt19937 random(7);
    std::string noise(4096, '\0');
    for (char& byte : noise) byte = static_cast<char>(random());
    Write("noise.rec", noise);
    proto::Header header;
    header.set_magic("heapdrift-recording");
    header.set_format_version(99);
    std::string bytes = header.SerializeAsString();
    Write("future.rec", std::string(1, static_cast<char>(bytes.size())) + bytes);
    Write("existing.txt", "a file the user cares about\n");
    fs::create_directory(File("dir"));
    Write("dir/inside.txt", "also cared about\n");
  }

  std::string File(const std::string& name) const { return dir_.File(name); }
  void Write(const std::string& name, const std::string& bytes) const {
    std::ofstream(File(name), std::ios::binary) << bytes;
  }

  // Every file under the fixture, with its bytes.
  std::map<std::string, std::string> Contents() const {
    std::map<std::string, std::string> contents;
    for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
      if (entry.is_regular_file()) contents[entry.path().string()] = ReadFile(entry.path().string());
    }
    return contents;
  }

  std::string Expand(std::string arg) const {
    const std::map<std::string, std::string> names = {
        {"{good}", File("good.rec")},     {"{one}", File("one.rec")},
        {"{cut}", File("cut.rec")},       {"{empty}", File("empty.rec")},
        {"{noise}", File("noise.rec")},   {"{future}", File("future.rec")},
        {"{missing}", File("missing")},   {"{existing}", File("existing.txt")},
        {"{dir}", File("dir")},           {"{new}", File("new.out")}};
    for (const auto& [name, path] : names) {
      for (size_t at = arg.find(name); at != std::string::npos; at = arg.find(name)) {
        arg.replace(at, name.size(), path);
      }
    }
    return arg;
  }

  TempDir dir_;
};

TEST_F(BadInputMatrix, OneLineADocumentedCodeAndNothingTouched) {
  std::map<std::string, std::string> before = Contents();
  std::vector<BadInput> cases = Matrix();
  for (const BadInput& bad : cases) {
    std::vector<std::string> argv = {kCliPath};
    std::string shown;
    for (const std::string& arg : bad.args) {
      argv.push_back(Expand(arg));
      shown += " " + arg;
    }
    SCOPED_TRACE(std::string(bad.name) + ":" + shown);
    ProcessResult result = RunProcess(argv, {}, 30);
    ASSERT_FALSE(result.timed_out);
    EXPECT_EQ(result.exit_code, bad.exit_code) << result.err;
    std::vector<std::string> lines = LinesStartingWith(result.err, "heapdrift:");
    ASSERT_EQ(lines.size(), 1u) << result.err;
    EXPECT_NE(lines[0].find(bad.says), std::string::npos) << lines[0];
    EXPECT_EQ(result.err.find("terminate called"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(File("new.out"))) << "an output was created on bad input";
    std::map<std::string, std::string> after = Contents();
    for (const auto& [path, bytes] : before) {
      auto found = after.find(path);
      ASSERT_NE(found, after.end()) << path << " was deleted";
      EXPECT_EQ(found->second, bytes) << path << " was changed";
    }
    EXPECT_EQ(after.size(), before.size()) << "a file was left behind";
  }
  EXPECT_GT(cases.size(), 100u);
}

}  // namespace
}  // namespace heapdrift::testing
