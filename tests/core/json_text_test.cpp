// json_text (core/json_text.h): JSON output stays valid when strings are not UTF-8 (file names
// may hold any bytes); is_valid_utf8; the saturating size arithmetic of core/size_math.h.
#include "cnnkit/core/json_text.h"

#include <gtest/gtest.h>

#include "cnnkit/core/size_math.h"

using namespace cnnkit;
using nlohmann::json;

TEST(JsonText, InvalidUtf8IsReplacedSoTheOutputParses) {
  const std::string latin1_path = "/data/caf\xe9/img.png";  // ISO-8859-1 'é'
  json j = {{"path", latin1_path}, {"ok", "na\xc3\xafve"}};
  EXPECT_THROW(j.dump(), json::type_error);  // what nlohmann does by default
  const std::string text = json_text(j);
  EXPECT_EQ(text, "{\"ok\":\"na\xc3\xafve\",\"path\":\"/data/caf\xef\xbf\xbd/img.png\"}");
  json back = json::parse(text);  // valid JSON again
  EXPECT_EQ(back["ok"], "na\xc3\xafve");
  EXPECT_EQ(json_text(j, 2).find('\n') != std::string::npos, true);
}

TEST(JsonText, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("28\xc3\x97" "28 \xe2\x94\x81 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("caf\xe9"));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x94"));          // cut short
}

TEST(SizeMath, SaturatesInsteadOfOverflowing) {
  EXPECT_EQ(sat_mul(3, 4), 12);
  EXPECT_EQ(sat_mul(std::int64_t(1) << 40, std::int64_t(1) << 40), kSizeSaturated);
  EXPECT_EQ(sat_mul(-1, 4), kSizeSaturated);
  EXPECT_EQ(sat_add(kSizeSaturated, 1), kSizeSaturated);
  EXPECT_EQ(sat_add(2, 3), 5);
  EXPECT_GT(physical_memory_bytes(), std::int64_t(1) << 26);
}
