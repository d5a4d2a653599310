#include "suppressions.h"

#include <gtest/gtest.h>

namespace heapdrift {
namespace {

TEST(PatternMatches, MatchesAnywhereUnlessAnchored) {
  EXPECT_TRUE(PatternMatches("Parse", "ParseRequest(char const*)"));
  EXPECT_TRUE(PatternMatches("Request", "ParseRequest(char const*)"));
  EXPECT_TRUE(PatternMatches("^Parse", "ParseRequest"));
  EXPECT_FALSE(PatternMatches("^Request", "ParseRequest"));
  EXPECT_TRUE(PatternMatches("Request$", "ParseRequest"));
  EXPECT_FALSE(PatternMatches("Parse$", "ParseRequest"));
  EXPECT_TRUE(PatternMatches("^ParseRequest$", "ParseRequest"));
  EXPECT_FALSE(PatternMatches("^ParseRequest$", "ParseRequestFixed"));
}

TEST(PatternMatches, StarMatchesAnyRunIncludingNone) {
  EXPECT_TRUE(PatternMatches("shop::*::Create", "shop::SessionStore::CreateSession"));
  EXPECT_TRUE(PatternMatches("lib*.so", "/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0"));
  EXPECT_TRUE(PatternMatches("^a*b$", "ab"));
  EXPECT_TRUE(PatternMatches("^a*b$", "axxxbxb"));
  EXPECT_FALSE(PatternMatches("^a*b$", "axxxbx"));
  EXPECT_TRUE(PatternMatches("*", ""));
  EXPECT_FALSE(PatternMatches("x", ""));
  // Many stars against a long non-match stays fast (no exponential backtracking).
  EXPECT_FALSE(PatternMatches("^*a*a*a*a*a*a*a*a*b$", std::string(200, 'a')));
}

TEST(ParseSuppressions, ReadsLeakLinesCommentsAndBlanks) {
  std::vector<Suppression> rules;
  std::string error;
  ASSERT_TRUE(ParseSuppressions("# header\n\nleak:Foo\n  leak: bar.cc  \r\nleak:libz.so\n",
                                "s.txt", &rules, &error))
      << error;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].pattern, "Foo");
  EXPECT_EQ(rules[0].origin, "s.txt:3");
  EXPECT_EQ(rules[1].pattern, "bar.cc");
  EXPECT_EQ(rules[2].origin, "s.txt:5");
}

TEST(ParseSuppressions, TrailingCommentsAreNotPartOfThePattern) {
  std::vector<Suppression> rules;
  std::string error;
  ASSERT_TRUE(ParseSuppressions("leak:ParseHeaderCount   # our known bug\nleak:Foo\t#why\n"
                                "leak:a#b\n",
                                "s.txt", &rules, &error))
      << error;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].pattern, "ParseHeaderCount");
  EXPECT_EQ(rules[1].pattern, "Foo");
  EXPECT_EQ(rules[2].pattern, "a#b");  // no blank before '#': part of the pattern
  EXPECT_FALSE(ParseSuppressions("leak: # nothing\n", "s.txt", &rules, &error));
}

TEST(ParseSuppressions, NamesTheMalformedLine) {
  for (const char* text : {"leak:ok\nrace:Foo\n", "leak:ok\nleak:\n", "leak:ok\nFoo\n",
                           "leak:ok\nleak:^$\n"}) {
    std::vector<Suppression> rules;
    std::string error;
    EXPECT_FALSE(ParseSuppressions(text, "s.txt", &rules, &error)) << text;
    EXPECT_EQ(error.rfind("s.txt:2: expected 'leak:PATTERN'", 0), 0u) << error;
  }
}

TEST(FindSuppression, MatchesAnyFrameByFunctionFileOrModule) {
  std::vector<symbolizer::Frame> stack = {
      {"malloc", "", 0, "/lib/x86_64-linux-gnu/libc.so.6", 0, false},
      {"Cache::Insert(int)", "src/cache.cc", 12, "/app/server", 0, false},
      {"main", "src/main.cc", 3, "/app/server", 0, false},
  };
  std::vector<Suppression> rules = {{"^Other$", "a:1"}, {"cache.cc", "a:2"}};
  const Suppression* found = FindSuppression(rules, stack);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->origin, "a:2");
  EXPECT_NE(FindSuppression({{"^Cache::Insert", "x"}}, stack), nullptr);
  EXPECT_NE(FindSuppression({{"/app/server$", "x"}}, stack), nullptr);
  EXPECT_EQ(FindSuppression({{"Session", "x"}}, stack), nullptr);
}

TEST(BuiltinSuppressions, CoverTheLoadersTlsAndNothingOfTheProgram) {
  std::vector<symbolizer::Frame> tls = {{"malloc", "", 0, "libc.so.6", 0, false},
                                        {"_dl_allocate_tls", "", 0, "ld-linux-x86-64.so.2", 0, false},
                                        {"pthread_create@@GLIBC_2.34", "", 0, "libc.so.6", 0, false}};
  EXPECT_NE(FindSuppression(BuiltinSuppressions(), tls), nullptr);
  // A program's own leak, under main and the C runtime's start-up frames.
  std::vector<symbolizer::Frame> program = {
      {"malloc", "", 0, "libc.so.6", 0, false},
      {"MakeList", "leaky.c", 12, "/app/leaky", 0, false},
      {"main", "leaky.c", 20, "/app/leaky", 0, false},
      {"__libc_start_call_main", "", 0, "libc.so.6", 0, false},
      {"__libc_start_main@@GLIBC_2.34", "", 0, "libc.so.6", 0, false},
      {"_start", "", 0, "/app/leaky", 0, false},
      {"_dl_start_user", "", 0, "ld-linux-x86-64.so.2", 0, false},
      {"call_init", "", 0, "ld-linux-x86-64.so.2", 0, false},
      {"_dl_init", "", 0, "ld-linux-x86-64.so.2", 0, false}};
  EXPECT_EQ(FindSuppression(BuiltinSuppressions(), program), nullptr);
}

}  // namespace
}  // namespace heapdrift
