// SHA-256: the FIPS 180-4 test vectors, a message across block boundaries, and a file checked
// against coreutils' sha256sum.
#include <gtest/gtest.h>

#include <fstream>

#include "cnnkit/core/error.h"
#include "cnnkit/core/sha256.h"
#include "cnnkit/export/python_tool.h"
#include "support/cli.h"

using namespace cnnkit;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, FileMatchesSha256sum) {
  cnnkit::test::TempDir dir;
  std::string bytes;
  for (int i = 0; i < 200000; ++i) bytes += static_cast<char>((i * 7919) & 0xff);
  const std::string path = dir.write("data.bin", bytes);
  EXPECT_EQ(sha256_file_hex(path), sha256_hex(bytes));
  const ProcessResult r = run_process({"sha256sum", path});
  if (r.exit_code != 0) GTEST_SKIP() << "sha256sum not available";
  EXPECT_EQ(r.out.substr(0, 64), sha256_hex(bytes));
}

TEST(Sha256, UnreadableFileNamesIt) {
  try {
    sha256_file_hex("/nonexistent/file.pt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/file.pt: cannot read"), std::string::npos) << e.what();
  }
}
