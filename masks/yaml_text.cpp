// A YAML node as one line of flow-style text (see yaml_text.hpp).
#include "masks/yaml_text.hpp"

namespace attnbench::masks {

std::string flow_text(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  YAML::Emitter e;
  e.SetSeqFormat(YAML::Flow);  // nested collections too
  e.SetMapFormat(YAML::Flow);
  e << n;
  return e.c_str();
}

}  // namespace attnbench::masks
