// The readable report of an evaluation (EvalResult::to_json, eval/evaluator.h): totals, the
// per-class table and the confusion matrix, rows "index name", columns the predicted class
// index; counts, or with `normalize` each row as percentages of its true class.
// format_evaluation(result) of eval/evaluator.h is this with normalize = false.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace cnnkit {

std::string format_evaluation(const nlohmann::json& result, bool normalize);

}  // namespace cnnkit
