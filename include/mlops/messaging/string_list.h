#pragma once
/// \file StringList: a multi-valued field (topic, next_task, output, recipient) read in place.

#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "mlops/export.h"

namespace mlops::messaging {

/// The strings of one multi-valued field, read in place: no copies, no allocation.
/// Empty when the field is unset. Remembers whether the producer gave one value or
/// a list, so a caller can hand it back in that shape. Valid while its message lives.
/// Thread-safety: a plain const view.
class MLOPS_EXPORT StringList {
  using WireVector = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

 public:
  /// Iterates the strings as std::string_view.
  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using iterator_concept = std::random_access_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using reference = std::string_view;

    iterator() noexcept = default;
    iterator(const WireVector* vector, std::size_t index) noexcept
        : vector_(vector), index_(index) {}
    std::string_view operator*() const noexcept {
      const auto* text = vector_->Get(static_cast<flatbuffers::uoffset_t>(index_));
      return {text->c_str(), text->size()};
    }
    std::string_view operator[](difference_type n) const noexcept { return *(*this + n); }
    iterator& operator++() noexcept {
      ++index_;
      return *this;
    }
    iterator operator++(int) noexcept {
      auto copy = *this;
      ++index_;
      return copy;
    }
    iterator& operator--() noexcept {
      --index_;
      return *this;
    }
    iterator operator--(int) noexcept {
      auto copy = *this;
      --index_;
      return copy;
    }
    iterator& operator+=(difference_type n) noexcept {
      index_ += static_cast<std::size_t>(n);
      return *this;
    }
    iterator& operator-=(difference_type n) noexcept {
      index_ -= static_cast<std::size_t>(n);
      return *this;
    }
    friend iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
    friend iterator operator+(difference_type n, iterator it) noexcept { return it += n; }
    friend iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
    friend difference_type operator-(const iterator& a, const iterator& b) noexcept {
      return static_cast<difference_type>(a.index_) - static_cast<difference_type>(b.index_);
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.index_ == b.index_;
    }
    friend auto operator<=>(const iterator& a, const iterator& b) noexcept {
      return a.index_ <=> b.index_;
    }

   private:
    const WireVector* vector_ = nullptr;
    std::size_t index_ = 0;
  };

  /// An unset field.
  StringList() noexcept = default;
  /// Internal: a view of a verified vector (may be null).
  StringList(const WireVector* vector, bool given_as_list) noexcept
      : vector_(vector), given_as_list_(given_as_list) {}

  [[nodiscard]] std::size_t size() const noexcept { return vector_ ? vector_->size() : 0; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  /// String `index`; index must be below size().
  [[nodiscard]] std::string_view operator[](std::size_t index) const noexcept {
    return begin()[static_cast<std::ptrdiff_t>(index)];
  }
  [[nodiscard]] iterator begin() const noexcept { return {vector_, 0}; }
  [[nodiscard]] iterator end() const noexcept { return {vector_, size()}; }

  /// True when the producer gave a list (even of one), false for one value or unset.
  [[nodiscard]] bool is_list() const noexcept { return given_as_list_; }

  /// An owned copy of the strings.
  [[nodiscard]] std::vector<std::string> to_vector() const { return {begin(), end()}; }

 private:
  const WireVector* vector_ = nullptr;
  bool given_as_list_ = false;
};

}  // namespace mlops::messaging
