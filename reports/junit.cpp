// JUnit XML of `attnbench compare` (see junit.hpp).
#include "reports/junit.hpp"

#include <cmath>

#include <fmt/format.h>

#include "reports/compare_format.hpp"

namespace attnbench {

std::string xml_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;
      case '\t': out += "&#9;"; break;
      default:
        // XML 1.0 forbids other control characters, even escaped.
        if (c < 0x20)
          out += ' ';
        else
          out += static_cast<char>(c);
    }
  }
  return out;
}

std::string render_compare_junit(const CompareReport& rep) {
  std::size_t skipped = 0;
  for (const auto& r : rep.rows)
    if (!r.fails && r.change == ChangeClass::missing) ++skipped;
  const auto counts = fmt::format(R"(tests="{}" failures="{}" errors="0" skipped="{}")", rep.rows.size(),
                                  rep.failures, skipped);
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"attnbench compare\" {}>\n", counts);
  out += fmt::format("  <testsuite name=\"attnbench compare\" {}>\n", counts);
  out += "    <properties>\n";
  auto property = [&](const std::string& name, const std::string& value) {
    out += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", name, xml_escape(value));
  };
  property("baseline", rep.baseline_path);
  property("current", rep.current_path);
  property("threshold_pct", fmt::format("{:g}", rep.options.threshold_pct));
  property("noise_sigmas", fmt::format("{:g}", rep.options.noise_sigmas));
  property("fail_on", fail_on_text(rep.options));
  property("geomean_time_ratio", geomean_text(rep));
  out += "    </properties>\n";

  for (const auto* r : rows_in_report_order(rep)) {
    const ResultRow& row = r->any_row();
    const double seconds =
        r->current && std::isfinite(r->current->time_ms) ? r->current->time_ms / 1000.0 : 0.0;
    out += fmt::format("    <testcase classname=\"attnbench.{}\" name=\"{}\" time=\"{:.6f}\"",
                       xml_escape(row.backend), xml_escape(r->label), seconds);
    const std::string summary = xml_escape(row_summary(*r, rep.options));
    if (r->fails) {
      out += fmt::format(">\n      <failure type=\"{}\" message=\"{}\"/>\n    </testcase>\n",
                         to_string(r->change), summary);
    } else if (r->change == ChangeClass::missing) {
      out += fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n", summary);
    } else {
      out += fmt::format(">\n      <system-out>{}</system-out>\n    </testcase>\n", summary);
    }
  }
  if (!rep.warnings.empty()) {
    out += "    <system-err>";
    for (const auto& w : rep.warnings) out += xml_escape(w) + "&#10;";
    out += "</system-err>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace attnbench
