// LoopState and Patience: Keras/Lightning patience semantics and the checkpoint round trip.
#include <gtest/gtest.h>

#include "cnnkit/train/loop_state.h"

using namespace cnnkit;

TEST(Patience, CountsEpochsWithoutImprovement) {
  Patience p;
  EXPECT_TRUE(p.observe(1.0, "val_loss", 0.0));   // the first value is always an improvement
  EXPECT_FALSE(p.observe(1.0, "val_loss", 0.0));  // equal is not better
  EXPECT_EQ(p.bad_epochs, 1);
  EXPECT_FALSE(p.exhausted(2));
  EXPECT_FALSE(p.observe(1.5, "val_loss", 0.0));
  EXPECT_EQ(p.bad_epochs, 2);
  EXPECT_TRUE(p.exhausted(2));  // patience 2: two epochs without improvement are enough
  EXPECT_TRUE(p.observe(0.5, "val_loss", 0.0));
  EXPECT_EQ(p.bad_epochs, 0);
  EXPECT_DOUBLE_EQ(p.best, 0.5);
}

TEST(Patience, AccuracyRisesAndMinDeltaCounts) {
  Patience p;
  p.observe(0.90, "val_accuracy", 0.01);
  EXPECT_FALSE(p.observe(0.905, "val_accuracy", 0.01));  // not by more than min_delta
  EXPECT_TRUE(p.observe(0.92, "val_accuracy", 0.01));
  EXPECT_FALSE(p.observe(0.80, "val_accuracy", 0.0));
  EXPECT_TRUE(p.exhausted(0) && p.exhausted(1));
}

TEST(LoopState, RoundTripsThroughJsonWithAPartialEpoch) {
  LoopState s;
  s.epoch = 3;
  s.step = 1234;
  s.lr_factor = 0.1;
  s.early.observe(0.7, "val_loss", 0);
  s.early.observe(0.8, "val_loss", 0);
  s.best_val_accuracy = 0.9;
  s.best_epoch = 2;
  s.elapsed = 12.5;
  s.partial.batch = 7;
  s.partial.loss_sum = 3.5;
  s.partial.correct = 600;
  s.partial.seen = 700;
  s.partial.seconds = 1.25;
  LoopState r;
  r.from_json(nlohmann::json::parse(s.to_json().dump()));
  EXPECT_EQ(r.epoch, 3);
  EXPECT_EQ(r.step, 1234);
  EXPECT_DOUBLE_EQ(r.lr_factor, 0.1);
  EXPECT_DOUBLE_EQ(r.early.best, 0.7);
  EXPECT_EQ(r.early.bad_epochs, 1);
  EXPECT_TRUE(std::isnan(r.plateau.best));
  EXPECT_EQ(r.best_epoch, 2);
  EXPECT_EQ(r.partial.batch, 7);
  EXPECT_EQ(r.partial.seen, 700);
  EXPECT_DOUBLE_EQ(r.partial.seconds, 1.25);
  // A finished epoch stores no partial position.
  LoopState whole;
  EXPECT_FALSE(whole.to_json().contains("partial"));
  LoopState w;
  w.partial.batch = 5;
  w.from_json(whole.to_json());
  EXPECT_EQ(w.partial.batch, 0);
}

TEST(LoopState, MalformedStateThrows) {
  LoopState s;
  EXPECT_THROW(s.from_json(nlohmann::json{{"epoch", 1}}), nlohmann::json::exception);
}
