// JUnit XML of `attnbench compare`: one <testcase> per compared row, so CI test views list every case.
#pragma once

#include <string>

#include "reports/compare.hpp"

namespace attnbench {

// Rows whose class is in --fail-on carry a <failure>; missing rows that do not
// fail are <skipped>; the rest pass with their change in <system-out>.
std::string render_compare_junit(const CompareReport&);

// Escapes text for an XML attribute or element (&, <, >, ", ', control bytes).
std::string xml_escape(const std::string&);

}  // namespace attnbench
