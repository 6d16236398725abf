// `attnbench model` and `attnbench calibrate`: the CP scale model's verbs (DESIGN.md "Scale model").
#pragma once

namespace CLI {
class App;
}

namespace attnbench {

void add_model_command(CLI::App&, int& exit_code);
void add_calibrate_command(CLI::App&, int& exit_code);

}  // namespace attnbench
