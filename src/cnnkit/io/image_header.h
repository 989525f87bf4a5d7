// What an encoded image file says about itself, read from its bytes without decoding it, so
// that read_image can refuse a damaged or absurd file before OpenCV allocates for it.
//
// Formats read: PNG, JPEG, BMP and binary/ASCII PNM (PBM, PGM, PPM). OpenCV can decode more
// (TIFF, WebP, JPEG 2000, OpenEXR, ...), but cnnkit hands it only these, whose headers it checks
// here: every other decoder stays out of reach of the files users point it at.
//
// Checks, each giving a phrase that reads after "PATH: ":
// - the signature (format) and the dimensions: positive, and at most `max_pixels` pixels;
// - that the file can hold that many pixels: a PNG's deflate stream expands at most ~1032:1;
//   an uncompressed BMP must hold every row;
// - that a JPEG has its end-of-image marker after its first scan (libjpeg only *warns* about a
//   truncated file and returns a partly grey image).
#pragma once
#include <cstdint>
#include <string>

namespace cnnkit {

struct ImageHeader {
  std::string format;  // "PNG", "JPEG", "BMP", "PNM"
  std::int64_t width = 0, height = 0;
  std::string problem;  // "" when the file looks decodable
};

ImageHeader inspect_image_bytes(const std::string& bytes, std::int64_t max_pixels);

}  // namespace cnnkit
