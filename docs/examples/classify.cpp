// Classifies images with a model written by `cnnkit export`, using LibTorch only.
// usage: classify MODEL.ts [IMAGES.pt]
// IMAGES.pt: a float tensor [N, C, H, W] with values in [0, 1] (torch.save in Python, or
// torch::pickle_save in C++); without it, one gray image. Prints, per image, the class name and
// the logits.
#include <torch/script.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: classify MODEL.ts [IMAGES.pt]\n";
    return 2;
  }
  torch::jit::Module model = torch::jit::load(argv[1]);  // eval semantics are built in
  std::vector<int64_t> shape = model.attr("input_shape").toIntVector();  // {C, H, W}
  torch::Tensor images;
  if (argc > 2) {
    std::ifstream in(argv[2], std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    images = torch::jit::pickle_load(bytes).toTensor();
  } else {
    images = torch::full({1, shape[0], shape[1], shape[2]}, 0.5);
  }
  torch::NoGradGuard no_grad;
  torch::Tensor logits = model.forward({images}).toTensor();  // [N, classes]
  c10::List<c10::IValue> names = model.attr("class_names").toList();
  for (int64_t i = 0; i < logits.size(0); ++i) {
    int64_t best = logits[i].argmax().item<int64_t>();
    std::cout << names.get(best).toStringRef() << std::setprecision(9);
    for (int64_t j = 0; j < logits.size(1); ++j) std::cout << '\t' << logits[i][j].item<double>();
    std::cout << "\n";
  }
  return 0;
}
