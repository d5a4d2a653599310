// A wake request's settings are read with the agent's own names and bounds;
// everything else a request may say is refused, never half-applied.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "options.h"

namespace heapdrift::agent {
namespace {

using Settings = std::map<std::string, std::string>;

const char* Lookup(const char* name, const void* context) {
  const Settings& settings = *static_cast<const Settings*>(context);
  auto found = settings.find(name);
  return found == settings.end() ? nullptr : found->second.c_str();
}

bool Wake(const Settings& settings, Options* options, std::string* error) {
  char text[256] = "";
  bool ok = ParseWakeSettings(options, Lookup, &settings, text, sizeof(text));
  *error = text;
  return ok;
}

TEST(WakeSettings, TakeTheRateAndKeepWhatTheRequestDoesNotSay) {
  Options options;
  options.sample_bytes = 65536;
  options.interval_ms = 1000;
  std::string error;
  ASSERT_TRUE(Wake({{"HEAPDRIFT_SAMPLE_BYTES", "4096"}}, &options, &error)) << error;
  EXPECT_EQ(options.sample_bytes, 4096u);
  EXPECT_EQ(options.interval_ms, 1000u);
  EXPECT_EQ(options.output[0], '\0');  // the connection itself
  ASSERT_TRUE(Wake({{"HEAPDRIFT_OUTPUT", "unix:/run/hd.sock"}, {"HEAPDRIFT_INTERVAL_MS", "250"}},
                   &options, &error))
      << error;
  EXPECT_TRUE(options.streams_to_socket());
  EXPECT_STREQ(options.socket_path(), "/run/hd.sock");
  EXPECT_EQ(options.interval_ms, 250u);
}

TEST(WakeSettings, RefuseWhatTheAgentWouldRefuseAtStart) {
  for (const Settings& bad : std::vector<Settings>{
           {{"HEAPDRIFT_SAMPLE_BYTES", "0"}},
           {{"HEAPDRIFT_SAMPLE_BYTES", "-1"}},
           {{"HEAPDRIFT_SAMPLE_BYTES", "12x"}},
           {{"HEAPDRIFT_INTERVAL_MS", "5"}},  // below kMinIntervalMs
           {{"HEAPDRIFT_INTERVAL_MS", "99999999999999999999"}},
           {{"HEAPDRIFT_OUTPUT", "/tmp/file.rec"}},  // a file the target would write
           {{"HEAPDRIFT_OUTPUT", "unix:"}}}) {
    Options options;
    std::string error;
    EXPECT_FALSE(Wake(bad, &options, &error)) << bad.begin()->second;
    EXPECT_NE(error.find("HEAPDRIFT_"), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace heapdrift::agent
