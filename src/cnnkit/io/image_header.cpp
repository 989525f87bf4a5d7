#include "cnnkit/io/image_header.h"

#include <cctype>

#include "cnnkit/core/size_math.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace {

std::uint32_t be16(const std::string& b, std::size_t at) {
  return (std::uint32_t(std::uint8_t(b[at])) << 8) | std::uint8_t(b[at + 1]);
}
std::uint32_t be32(const std::string& b, std::size_t at) {
  return (be16(b, at) << 16) | be16(b, at + 2);
}
std::uint32_t le16(const std::string& b, std::size_t at) {
  return std::uint32_t(std::uint8_t(b[at])) | (std::uint32_t(std::uint8_t(b[at + 1])) << 8);
}
std::uint32_t le32(const std::string& b, std::size_t at) { return le16(b, at) | (le16(b, at + 2) << 16); }

std::string dims(std::int64_t w, std::int64_t h) { return std::to_string(w) + "×" + std::to_string(h); }

// Most bytes a deflate stream of `compressed` bytes can expand to (about 1032:1).
std::int64_t max_inflated(std::int64_t compressed) { return sat_add(sat_mul(compressed, 1040), 4096); }

void inspect_png(const std::string& b, ImageHeader& h) {
  h.format = "PNG";
  if (b.size() < 26) {
    h.problem = "truncated PNG: " + std::to_string(b.size()) + " bytes, too short for its header";
    return;
  }
  if (b.compare(12, 4, "IHDR") != 0) {
    h.problem = "corrupt PNG: the first chunk is not IHDR (byte 12)";
    return;
  }
  h.width = be32(b, 16);
  h.height = be32(b, 20);
  const int depth = std::uint8_t(b[24]), colour = std::uint8_t(b[25]);
  const int channels = colour == 2 ? 3 : colour == 4 ? 2 : colour == 6 ? 4 : 1;
  // Every pixel's bits pass through the deflate stream, which the file must be able to hold.
  const std::int64_t bits = sat_mul(sat_mul(sat_mul(h.width, h.height), channels), depth > 0 ? depth : 1);
  if (h.width > 0 && h.height > 0 && bits / 8 > max_inflated(static_cast<std::int64_t>(b.size()))) {
    h.problem = "truncated or corrupt PNG: a file of " + std::to_string(b.size()) + " bytes cannot hold the " +
                dims(h.width, h.height) + " pixels its header (IHDR, byte 16) announces";
  }
}

bool is_sof(int m) { return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC; }

void inspect_jpeg(const std::string& b, ImageHeader& h) {
  h.format = "JPEG";
  std::size_t i = 2;
  bool have_frame = false;
  while (true) {
    while (i < b.size() && std::uint8_t(b[i]) != 0xFF) ++i;  // tolerate junk between segments
    while (i < b.size() && std::uint8_t(b[i]) == 0xFF) ++i;  // fill bytes
    if (i >= b.size()) {
      h.problem = "truncated JPEG: the data ends at byte " + std::to_string(b.size()) + " before its first scan";
      return;
    }
    const int m = std::uint8_t(b[i++]);
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) continue;  // markers without a length
    if (m == 0xD9) {
      h.problem = "corrupt JPEG: end of image before any scan (byte " + std::to_string(i - 2) + ")";
      return;
    }
    if (i + 2 > b.size()) {
      h.problem = "truncated JPEG: the data ends inside a marker at byte " + std::to_string(i);
      return;
    }
    const std::size_t length = be16(b, i);
    if (length < 2 || i + length > b.size()) {
      h.problem = "truncated or corrupt JPEG: segment 0xFF" + std::string(1, "0123456789ABCDEF"[m >> 4]) +
                  std::string(1, "0123456789ABCDEF"[m & 15]) + " at byte " + std::to_string(i - 2) + " has length " +
                  std::to_string(length) + " but the file ends at byte " + std::to_string(b.size());
      return;
    }
    if (is_sof(m) && !have_frame) {
      if (length < 8) {
        h.problem = "corrupt JPEG: frame header at byte " + std::to_string(i - 2) + " is too short";
        return;
      }
      h.height = be16(b, i + 3);
      h.width = be16(b, i + 5);
      have_frame = true;
    }
    if (m == 0xDA) {  // start of scan: the entropy-coded data follows
      if (!have_frame) {
        h.problem = "corrupt JPEG: a scan starts (byte " + std::to_string(i - 2) + ") before any frame header";
        return;
      }
      // In entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so FF D9
      // only occurs as the end-of-image marker: without it the file was cut short.
      if (b.find("\xFF\xD9", i + length) == std::string::npos) {
        h.problem = "truncated JPEG: the data ends at byte " + std::to_string(b.size()) +
                    " without its end-of-image marker";
      }
      return;
    }
    i += length;
  }
}

void inspect_bmp(const std::string& b, ImageHeader& h) {
  h.format = "BMP";
  if (b.size() < 26) {
    h.problem = "truncated BMP: " + std::to_string(b.size()) + " bytes, too short for its header";
    return;
  }
  const std::int64_t offset = le32(b, 10);
  const std::uint32_t info = le32(b, 14);
  std::int64_t bpp = 0, compression = 0;
  if (info == 12) {
    h.width = le16(b, 18);
    h.height = le16(b, 20);
    bpp = le16(b, 24);
  } else if (info >= 40 && b.size() >= 34) {
    h.width = static_cast<std::int32_t>(le32(b, 18));
    const std::int64_t height = static_cast<std::int32_t>(le32(b, 22));
    h.height = height < 0 ? -height : height;  // negative: rows stored top-down
    bpp = le16(b, 28);
    compression = le32(b, 30);
  } else {
    h.problem = "corrupt or unsupported BMP: info header of " + std::to_string(info) + " bytes (byte 14)";
    return;
  }
  if (h.width <= 0 || h.height <= 0) return;  // reported by the caller
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) {
    h.problem = "corrupt BMP: " + std::to_string(bpp) + " bits per pixel (byte 28)";
    return;
  }
  if (compression == 0 || compression == 3) {  // uncompressed rows: the file must hold all of them
    const std::int64_t stride = sat_mul(sat_add(sat_mul(h.width, bpp), 31) / 32, 4);
    const std::int64_t need = sat_add(offset, sat_mul(stride, h.height));
    if (need > static_cast<std::int64_t>(b.size())) {
      h.problem = "truncated BMP: " + dims(h.width, h.height) + " pixels at " + std::to_string(bpp) +
                  " bits need " + std::to_string(need) + " bytes, the file has " + std::to_string(b.size());
    }
  }
}

// PNM: "P1".."P6", then width, height and (except for bitmaps) the maximum value, as ASCII
// numbers separated by whitespace and '#' comments.
void inspect_pnm(const std::string& b, ImageHeader& h) {
  h.format = "PNM";
  const int kind = b[1] - '0';
  std::size_t i = 2;
  auto number = [&](std::int64_t& out) {
    while (i < b.size()) {
      if (std::isspace(static_cast<unsigned char>(b[i]))) {
        ++i;
      } else if (b[i] == '#') {
        while (i < b.size() && b[i] != '\n' && b[i] != '\r') ++i;
      } else {
        break;
      }
    }
    std::size_t start = i;
    out = 0;
    while (i < b.size() && std::isdigit(static_cast<unsigned char>(b[i])) && i - start < 10) out = out * 10 + (b[i++] - '0');
    return i > start && (i >= b.size() || !std::isdigit(static_cast<unsigned char>(b[i])));
  };
  std::int64_t maxval = 1;
  if (!number(h.width) || !number(h.height) || (kind != 1 && kind != 4 && !number(maxval))) {
    h.problem = "corrupt PNM: no valid width, height and maximum value in its header";
    return;
  }
  if (maxval < 1 || maxval > 65535) {
    h.problem = "corrupt PNM: maximum value " + std::to_string(maxval) + " (expected 1..65535)";
    return;
  }
  if (h.width <= 0 || h.height <= 0) return;
  const std::int64_t channels = (kind == 3 || kind == 6) ? 3 : 1;
  const std::int64_t values = sat_mul(sat_mul(h.width, h.height), channels);
  const std::int64_t left = static_cast<std::int64_t>(b.size()) - static_cast<std::int64_t>(i) - 1;
  std::int64_t need;
  if (kind == 4) need = sat_mul((h.width + 7) / 8, h.height);
  else if (kind >= 5) need = sat_mul(values, maxval > 255 ? 2 : 1);
  else if (kind == 1) need = values;             // bits may be written without separators
  else need = sat_mul(values, 2) - 1;  // at least one digit and one separator each
  if (need > left) {
    h.problem = "truncated PNM: " + dims(h.width, h.height) + " pixels need at least " + std::to_string(need) +
                " bytes of data, the file has " + std::to_string(left < 0 ? 0 : left) + " after its header";
  }
}

}  // namespace

ImageHeader inspect_image_bytes(const std::string& b, std::int64_t max_pixels) {
  ImageHeader h;
  if (b.empty()) {
    h.problem = "empty file, not an image";
    return h;
  }
  if (b.size() >= 8 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) {
    inspect_png(b, h);
  } else if (b.size() >= 3 && b.compare(0, 3, "\xFF\xD8\xFF") == 0) {
    inspect_jpeg(b, h);
  } else if (b.size() >= 2 && b.compare(0, 2, "BM") == 0) {
    inspect_bmp(b, h);
  } else if (b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6' &&
             std::isspace(static_cast<unsigned char>(b[2]))) {
    inspect_pnm(b, h);
  } else {
    h.problem = "not a PNG, JPEG, BMP or PNM image (cnnkit reads only these formats)";
    return h;
  }
  if (!h.problem.empty()) return h;
  if (h.width <= 0 || h.height <= 0) {
    h.problem = "corrupt " + h.format + ": its header gives a size of " + dims(h.width, h.height) + " pixels";
  } else if (sat_mul(h.width, h.height) > max_pixels) {
    h.problem = h.format + " of " + dims(h.width, h.height) + " pixels, more than the " + with_commas(max_pixels) +
                " pixels cnnkit reads";
  }
  return h;
}

}  // namespace cnnkit
