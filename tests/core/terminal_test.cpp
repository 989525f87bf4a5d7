#include "cnnkit/core/terminal.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "cnnkit/core/error.h"

using namespace cnnkit;

TEST(Terminal, PluralsAndThousands) {
  EXPECT_EQ(plural(1, "epoch"), "1 epoch");
  EXPECT_EQ(plural(2, "epoch"), "2 epochs");
  EXPECT_EQ(plural(0, "image"), "0 images");
  EXPECT_EQ(plural(60000, "image"), "60,000 images");
  EXPECT_EQ(plural(3, "class", "classes"), "3 classes");
  EXPECT_EQ(plural(1, "class", "classes"), "1 class");
}

TEST(Terminal, AsciiFallbackReplacesWhatCnnkitWrites) {
  EXPECT_EQ(ascii_fallback("28×28×1 ━━ a → b — c …"), "28x28x1 == a -> b - c ...");
  EXPECT_EQ(ascii_fallback("plain"), "plain");
  // Bytes it does not know stay as they are (file names are data).
  EXPECT_EQ(ascii_fallback("caf\xc3\xa9"), "caf\xc3\xa9");
}

// Restores the locale variables a test changed.
class LocaleEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* n : kNames) saved_.push_back(std::getenv(n) ? std::optional<std::string>(std::getenv(n)) : std::nullopt);
  }
  void TearDown() override {
    for (std::size_t i = 0; i < saved_.size(); ++i) {
      if (saved_[i]) setenv(kNames[i], saved_[i]->c_str(), 1);
      else unsetenv(kNames[i]);
    }
  }
  static constexpr const char* kNames[] = {"LC_ALL", "LC_CTYPE", "LANG"};
  std::vector<std::optional<std::string>> saved_;
};

TEST_F(LocaleEnv, Utf8LocaleReadsLcAllThenLcCtypeThenLang) {
  setenv("LC_ALL", "C.UTF-8", 1);
  EXPECT_TRUE(utf8_locale());
  EXPECT_EQ(for_terminal("2×2"), "2×2");
  setenv("LC_ALL", "C", 1);
  EXPECT_FALSE(utf8_locale());
  EXPECT_EQ(for_terminal("2×2"), "2x2");
  unsetenv("LC_ALL");
  setenv("LC_CTYPE", "en_US.utf8", 1);
  EXPECT_TRUE(utf8_locale());
  unsetenv("LC_CTYPE");
  setenv("LANG", "de_DE.ISO-8859-1", 1);
  EXPECT_FALSE(utf8_locale());
  unsetenv("LANG");
  EXPECT_FALSE(utf8_locale());  // nothing set: the "C" locale
}

TEST(Terminal, ColorModes) {
  EXPECT_EQ(parse_color_mode("auto"), ColorMode::kAuto);
  EXPECT_EQ(parse_color_mode("always"), ColorMode::kAlways);
  EXPECT_EQ(parse_color_mode("never"), ColorMode::kNever);
  EXPECT_THROW(parse_color_mode("yes"), UsageError);
  set_color_mode(ColorMode::kAlways);
  EXPECT_TRUE(stderr_color());
  set_color_mode(ColorMode::kNever);
  EXPECT_FALSE(stderr_color());
  set_color_mode(ColorMode::kAuto);
}
