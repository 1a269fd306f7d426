//! Threshold by direct comparison.
//!
//! - Decimal text `[+-]digits[.digits][e[+-]digits]` is read as the exact rational
//!   `mantissa × 10^exp10` (no rounding, no truncation); an integer key `k` whose value is
//!   `k / scale` is compared with it exactly: `k / scale > T` ⇔ `k > T·scale`, in `i128` with
//!   overflow handled by magnitude.
//! - A float value `v` (f32) is compared with a threshold `t` (f64) in f64, where the
//!   comparison is exact (every f32 is an f64).
//! - Otsu: the between-class variance `w0 w1 (μ0 − μ1)²` for every split of an integer histogram,
//!   by its definition.

use std::cmp::Ordering;

/// `mantissa × 10^exp10`, exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exact {
    pub mantissa: i128,
    pub exp10: i64,
}

/// Parse `[+-]digits[.digits][e[+-]digits]` (surrounding whitespace allowed) exactly. `None` for
/// anything else, and for mantissas beyond `i128` (tests keep digit counts small) or exponents
/// that do not fit an `i32`.
pub fn parse_exact(text: &str) -> Option<Exact> {
    let t = text.trim();
    let (negative, t) = if let Some(rest) = t.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = t.strip_prefix('+') {
        (false, rest)
    } else {
        (false, t)
    };
    let (number, exponent) = match t.find(['e', 'E']) {
        Some(p) => (&t[..p], t[p + 1..].parse::<i32>().ok()? as i64),
        None => (t, 0),
    };
    let (int_part, frac_part) = match number.find('.') {
        Some(p) => (&number[..p], &number[p + 1..]),
        None => (number, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut mantissa: i128 = 0;
    for c in int_part.chars().chain(frac_part.chars()) {
        let d = c.to_digit(10)? as i128;
        mantissa = mantissa.checked_mul(10)?.checked_add(d)?;
    }
    Some(Exact {
        mantissa: if negative { -mantissa } else { mantissa },
        exp10: exponent - frac_part.len() as i64,
    })
}

/// `a × 10^e` for `e ≥ 0`, or `None` on overflow.
fn times_pow10(a: i128, e: i64) -> Option<i128> {
    let mut v = a;
    for _ in 0..e {
        v = v.checked_mul(10)?;
    }
    Some(v)
}

/// The order of `key` against `t × scale` (exact).
pub fn cmp_key(key: u32, scale: u32, t: Exact) -> Ordering {
    let rhs = t.mantissa * scale as i128; // |mantissa| < 1e34 in the tests, scale <= 1e4
    if rhs == 0 {
        return (key as i128).cmp(&0);
    }
    if t.exp10 >= 0 {
        // key vs rhs · 10^e
        match times_pow10(rhs, t.exp10) {
            Some(r) => (key as i128).cmp(&r),
            None => {
                if rhs > 0 {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
        }
    } else {
        // key · 10^-e vs rhs
        match times_pow10(key as i128, -t.exp10) {
            Some(l) => l.cmp(&rhs),
            None => Ordering::Greater, // key > 0 here, and |rhs| < 1e38
        }
    }
}

/// The mask of integer keys against a fixed threshold: `value > T` (or `< T` when dark).
pub fn mask_int(keys: &[u32], scale: u32, t: Exact, dark: bool) -> Vec<u32> {
    keys.iter()
        .map(|&k| {
            let o = cmp_key(k, scale, t);
            let on = if dark {
                o == Ordering::Less
            } else {
                o == Ordering::Greater
            };
            on as u32
        })
        .collect()
}

/// The mask of float values against an f64 threshold: `v > t` (or `v < t` when dark).
pub fn mask_float(values: &[f32], t: f64, dark: bool) -> Vec<u32> {
    values
        .iter()
        .map(|&v| {
            let v = v as f64;
            (if dark { v < t } else { v > t }) as u32
        })
        .collect()
}

/// Otsu's between-class variance `n0 · n1 · (μ0 − μ1)²` of splitting integer values into
/// class 0 (`<= level`) and class 1, exactly, as the fraction `(n1·S0 − n0·S1)² / (n0·n1)`
/// (`S` the class sums). `None` when a class is empty.
pub fn between_class_variance(values: &[u64], level: u64) -> Option<Fraction> {
    let (mut n0, mut s0, mut n1, mut s1) = (0u128, 0u128, 0u128, 0u128);
    for &v in values {
        if v <= level {
            n0 += 1;
            s0 += v as u128;
        } else {
            n1 += 1;
            s1 += v as u128;
        }
    }
    if n0 == 0 || n1 == 0 {
        return None;
    }
    let d = (n1 * s0).abs_diff(n0 * s1);
    Some(Fraction {
        num: d * d,
        den: n0 * n1,
    })
}

/// A non-negative fraction `num / den` (exact comparisons by cross-multiplication; the
/// caller keeps the products within `u128`).
#[derive(Clone, Copy, Debug)]
pub struct Fraction {
    pub num: u128,
    pub den: u128,
}

impl Fraction {
    /// `self > other`, exactly.
    pub fn gt(&self, other: &Fraction) -> bool {
        self.num * other.den > other.num * self.den
    }
    /// `self > other · (1 + 1/k)`.
    pub fn exceeds_by(&self, other: &Fraction, k: u128) -> bool {
        self.num * other.den * k > other.num * self.den * (k + 1)
    }
}
