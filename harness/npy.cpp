// Writes the .npy header (magic, version 1.0, padded dict) followed by raw little-endian data.
#include "harness/npy.hpp"

#include <string_view>

#include "reports/durable_file.hpp"

namespace attnbench {

void write_npy(const std::string& path, const std::string& dtype, const std::vector<std::int64_t>& shape,
               const void* data, std::size_t bytes) {
  // NumPy's own spelling: (5,) for one axis, (2, 3) for more.
  std::string dims;
  for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  const auto len = static_cast<std::uint16_t>(header.size());
  const char prefix[10] = {'\x93',
                           'N',
                           'U',
                           'M',
                           'P',
                           'Y',
                           '\x01',
                           '\x00',
                           static_cast<char>(len & 0xFF),
                           static_cast<char>(len >> 8)};
  write_file_checked(
      path, {std::string_view(prefix, 10), header, std::string_view(static_cast<const char*>(data), bytes)});
}

}  // namespace attnbench
