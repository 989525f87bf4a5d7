// The image decoder path (io/image_io.h read_image: file checks, header inspection, OpenCV
// decode, colour conversion, resize). Input: one mode byte (bit 0: 1 or 3 channels; bit 1:
// resize to 5×7), then the file. Pixel limit lowered to 4 megapixels (fuzz_support init()).
// With $CNNKIT_FUZZ_MAKE_SEEDS set, writes tiny images in every supported format and exits.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdlib>

#include "cnnkit/io/image_io.h"
#include "fuzz_support.h"

namespace {

void make_seeds() {
  cv::Mat gray(3, 4, CV_8UC1), colour(4, 3, CV_8UC3), deep(3, 3, CV_16UC3), alpha(2, 3, CV_8UC4);
  cv::randu(gray, 0, 255);
  cv::randu(colour, 0, 255);
  cv::randu(deep, 0, 65535);
  cv::randu(alpha, 0, 255);
  struct Seed {
    const char* name;
    const cv::Mat* image;
    const char* ext;
    std::vector<int> params;
  };
  const std::vector<Seed> seeds = {
      {"gray.png", &gray, ".png", {}},
      {"colour.png", &colour, ".png", {}},
      {"deep.png", &deep, ".png", {}},
      {"alpha.png", &alpha, ".png", {}},
      {"gray.jpg", &gray, ".jpg", {}},
      {"colour.jpg", &colour, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 50}},
      {"progressive.jpg", &colour, ".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}},
      {"colour.bmp", &colour, ".bmp", {}},
      {"gray.bmp", &gray, ".bmp", {}},
      {"gray.pgm", &gray, ".pgm", {}},
      {"ascii.pgm", &gray, ".pgm", {cv::IMWRITE_PXM_BINARY, 0}},
      {"colour.ppm", &colour, ".ppm", {}},
      {"bits.pbm", &gray, ".pbm", {}},
  };
  for (const auto& s : seeds) {
    std::vector<uchar> bytes;
    if (!cv::imencode(s.ext, *s.image, bytes, s.params)) continue;
    for (char mode : {'\0', '\3'}) {
      cnnkit::fuzz::write_seed(std::string(mode ? "rgb-resized-" : "gray-") + s.name,
                               std::string(1, mode) + std::string(bytes.begin(), bytes.end()));
    }
  }
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cnnkit::fuzz::init();
  cv::setNumThreads(1);
  if (!cnnkit::fuzz::seed_dir().empty()) make_seeds();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int channels = data[0] & 1 ? 3 : 1;
  const cnnkit::ImageSize size_to = data[0] & 2 ? cnnkit::ImageSize{5, 7} : cnnkit::ImageSize{};
  const std::string path =
      cnnkit::fuzz::write_temp("image", std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  cnnkit::fuzz::expect_clean([&] {
    cnnkit::ImageSize original;
    torch::Tensor t = cnnkit::read_image(path, channels, size_to, &original);
    if (t.dim() != 3 || t.size(0) != channels || original.empty()) std::abort();
    if (!size_to.empty() && (t.size(1) != 5 || t.size(2) != 7)) std::abort();
  });
  return 0;
}
