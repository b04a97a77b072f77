// Image decoding (JPEG, PNG, BMP) and PNG encoding with stb_image, into and out of uint8 [H, W, C] tensors.
// stb_image is permissive: it decodes TGA from almost any bytes and pads truncated JPEG and BMP data
// with zeros. Both would be silent data corruption for a dataset tool, so the format is checked by its
// signature and truncation is detected before stb sees the bytes.
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>

#include <cstring>
#include <memory>

#include "common.h"

namespace {

enum class Format { Png, Jpeg, Bmp };

Format sniff(const uint8_t* b, int64_t n) {
    static const uint8_t png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n >= 8 && std::memcmp(b, png, 8) == 0) return Format::Png;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return Format::Jpeg;
    if (n >= 2 && b[0] == 'B' && b[1] == 'M') return Format::Bmp;
    throw std::invalid_argument("not a JPEG, PNG or BMP image (unrecognised signature)");
}

// Entropy-coded JPEG data escapes 0xFF as FF 00, so FF D9 after the last start-of-scan is the real
// end-of-image marker. Its absence means the file was cut short.
void check_jpeg_complete(const uint8_t* b, int64_t n) {
    int64_t last_sos = -1;
    for (int64_t i = 0; i + 1 < n; ++i)
        if (b[i] == 0xFF && b[i + 1] == 0xDA) last_sos = i;
    if (last_sos < 0) throw std::invalid_argument("truncated JPEG: no start-of-scan marker");
    for (int64_t i = last_sos + 2; i + 1 < n; ++i)
        if (b[i] == 0xFF && b[i + 1] == 0xD9) return;
    throw std::invalid_argument("truncated JPEG: no end-of-image marker after the scan data");
}

uint32_t be32(const uint8_t* p) { return (static_cast<uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

// stb stops reading at the IEND chunk's type and never reads its CRC, so a PNG cut inside those last bytes
// would pass. Walk the chunks (length, type, data, CRC) and require a complete IEND within the file.
void check_png_complete(const uint8_t* b, int64_t n) {
    int64_t pos = 8;
    while (pos + 12 <= n) {
        const int64_t length = be32(b + pos);
        if (std::memcmp(b + pos + 4, "IEND", 4) == 0) return;
        pos += 12 + length;
    }
    throw std::invalid_argument("truncated PNG: the file ends before a complete IEND chunk");
}

uint32_t le32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// Uncompressed BMPs declare where the pixels start and how wide a row is; the file must hold them all.
void check_bmp_complete(const uint8_t* b, int64_t n) {
    if (n < 30) throw std::invalid_argument("truncated BMP: header incomplete");
    const uint32_t header = le32(b + 14);
    if (header < 40 || n < 34) return;  // OS/2 headers: leave the checks to stb
    const int64_t offset = le32(b + 10);
    const int64_t width = static_cast<int32_t>(le32(b + 18));
    const int64_t height = std::abs(static_cast<int64_t>(static_cast<int32_t>(le32(b + 22))));
    const int64_t bpp = le16(b + 28);
    const uint32_t compression = le32(b + 30);
    // 0 BI_RGB and 3 BI_BITFIELDS store pixels uncompressed (the two stb decodes); leave the others to stb.
    if ((compression != 0 && compression != 3) || width <= 0 || bpp == 0) return;
    const int64_t stride = ((width * bpp + 31) / 32) * 4;
    if (offset + stride * height > n)
        throw std::invalid_argument("truncated BMP: pixel data needs " + std::to_string(offset + stride * height) +
                                    " bytes, file has " + std::to_string(n));
}

struct StbFree {
    void operator()(stbi_uc* p) const { stbi_image_free(p); }
};

void append(void* context, void* data, int size) {
    auto* out = static_cast<std::vector<uint8_t>*>(context);
    const auto* bytes = static_cast<const uint8_t*>(data);
    out->insert(out->end(), bytes, bytes + size);
}

}  // namespace

extern "C" {

AD_API ad_tensor ad_image_decode(const uint8_t* bytes, int64_t length, int32_t channels, int32_t max_dim) {
    AD_GUARD(nullptr, if (bytes == nullptr || length <= 0) throw std::invalid_argument("empty image data");
             if (length > INT32_MAX) throw std::invalid_argument("image file larger than 2 GiB");
             if (channels < 0 || channels > 4) throw std::invalid_argument("channels must be 0 (as stored) to 4");
             const Format format = sniff(bytes, length);
             if (format == Format::Png) check_png_complete(bytes, length);
             if (format == Format::Jpeg) check_jpeg_complete(bytes, length);
             if (format == Format::Bmp) check_bmp_complete(bytes, length);
             const int len = static_cast<int>(length); int w = 0, h = 0, c = 0;
             if (stbi_info_from_memory(bytes, len, &w, &h, &c) == 0)
                 throw std::invalid_argument(std::string("undecodable image header: ") + stbi_failure_reason());
             if (w <= 0 || h <= 0 || w > max_dim || h > max_dim)
                 throw std::invalid_argument("image is " + std::to_string(w) + "x" + std::to_string(h) +
                                             ", beyond the limit of " + std::to_string(max_dim) + " pixels a side");
             std::unique_ptr<stbi_uc, StbFree> pixels(stbi_load_from_memory(bytes, len, &w, &h, &c, channels));
             if (!pixels) throw std::invalid_argument(std::string("corrupt image data: ") + stbi_failure_reason());
             const int64_t out_c = channels == 0 ? c : channels;
             auto out = at::empty({h, w, out_c}, at::TensorOptions().dtype(at::kByte));
             std::memcpy(out.data_ptr(), pixels.get(), static_cast<size_t>(h) * w * out_c);
             return ad::wrap(out);)
}

}  // extern "C"

namespace {

// Validates a uint8 [H, W, C] image for an encoder and returns it contiguous on the CPU.
at::Tensor encodable(const at::Tensor& x, int64_t max_channels, const char* format) {
    if (x.scalar_type() != at::kByte || x.dim() != 3 || x.size(2) < 1 || x.size(2) > max_channels)
        throw std::invalid_argument(std::string(format) + " encoding needs a uint8 [H, W, C] tensor with C in 1.." +
                                    std::to_string(max_channels) + ", got " +
                                    std::string(c10::toString(x.scalar_type())) + " " + c10::str(x.sizes()));
    if (x.size(0) < 1 || x.size(1) < 1 || x.size(0) > 65535 || x.size(1) > 65535)
        throw std::invalid_argument(std::string(format) + " encoding needs 1 to 65535 pixels a side");
    return x.to(at::kCPU).contiguous();
}

ad_tensor bytes_tensor(const std::vector<uint8_t>& bytes) {
    auto out = at::empty({static_cast<int64_t>(bytes.size())}, at::TensorOptions().dtype(at::kByte));
    std::memcpy(out.data_ptr(), bytes.data(), bytes.size());
    return ad::wrap(out);
}

}  // namespace

extern "C" {

AD_API ad_tensor ad_image_encode_png(ad_tensor image) {
    AD_GUARD(nullptr, const auto pixels = encodable(ad::get(image), 4, "PNG"); std::vector<uint8_t> bytes;
             const int h = static_cast<int>(pixels.size(0)), w = static_cast<int>(pixels.size(1)),
                       c = static_cast<int>(pixels.size(2));
             if (stbi_write_png_to_func(append, &bytes, w, h, c, pixels.data_ptr(), w * c) == 0)
                 throw std::runtime_error("PNG encoding failed");
             return bytes_tensor(bytes);)
}

AD_API ad_tensor ad_image_encode_jpeg(ad_tensor image, int32_t quality) {
    AD_GUARD(nullptr, if (quality < 1 || quality > 100) throw std::invalid_argument("JPEG quality must lie in 1..100");
             const auto& x = ad::get(image);
             if (x.dim() == 3 && x.size(2) != 1 && x.size(2) != 3)
                 throw std::invalid_argument("JPEG encoding needs 1 or 3 channels, got " + std::to_string(x.size(2)));
             const auto pixels = encodable(x, 3, "JPEG"); std::vector<uint8_t> bytes;
             const int h = static_cast<int>(pixels.size(0)), w = static_cast<int>(pixels.size(1)),
                       c = static_cast<int>(pixels.size(2));
             if (stbi_write_jpg_to_func(append, &bytes, w, h, c, pixels.data_ptr(), quality) == 0)
                 throw std::runtime_error("JPEG encoding failed");
             return bytes_tensor(bytes);)
}

}  // extern "C"
