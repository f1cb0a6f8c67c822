//! Ports of Go's `math` routines whose last bit differs from Rust's (libm)
//! versions, so that results match Prometheus exactly rather than within
//! an ulp. Only what the comparison against Prometheus showed to matter.

/// Go's `math.Frexp`: `x = frac * 2^exp` with `frac` in `[0.5, 1)`.
pub(super) fn frexp(x: f64) -> (f64, i32) {
    if x == 0.0 || x.is_nan() || x.is_infinite() {
        return (x, 0);
    }
    let (mut x, mut e) = (x, 0i32);
    // Normalise subnormals first, as Go does.
    if x.abs() < f64::MIN_POSITIVE {
        x *= (1u64 << 52) as f64;
        e = -52;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i32 - 1022;
    let frac = f64::from_bits((bits & !(0x7ffu64 << 52)) | (1022u64 << 52));
    (frac, e)
}

/// Go's `math.Log` (FreeBSD's `e_log.c`; Go's amd64 assembly computes the
/// same polynomial). Constants are given by their bits to be exact.
pub(super) fn log(x: f64) -> f64 {
    const LN2_HI: f64 = f64::from_bits(0x3fe62e42fee00000); // 6.93147180369123816490e-1
    const LN2_LO: f64 = f64::from_bits(0x3dea39ef35793c76); // 1.90821492927058770002e-10
    const L1: f64 = f64::from_bits(0x3fe5555555555593); // 6.666666666666735130e-1
    const L2: f64 = f64::from_bits(0x3fd999999997fa04); // 3.999999999940941908e-1
    const L3: f64 = f64::from_bits(0x3fd2492494229359); // 2.857142874366239149e-1
    const L4: f64 = f64::from_bits(0x3fcc71c51d8e78af); // 2.222219843214978396e-1
    const L5: f64 = f64::from_bits(0x3fc7466496cb03de); // 1.818357216161805012e-1
    const L6: f64 = f64::from_bits(0x3fc39a09d078c69f); // 1.531383769920937332e-1
    const L7: f64 = f64::from_bits(0x3fc2f112df3e5244); // 1.479819860511658591e-1
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    let (mut f1, mut ki) = frexp(x);
    if f1 < std::f64::consts::SQRT_2 / 2.0 {
        f1 *= 2.0;
        ki -= 1;
    }
    let f = f1 - 1.0;
    let k = ki as f64;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
    let t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
    let r = t1 + t2;
    let hfsq = 0.5 * f * f;
    k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f)
}

/// Go's `math.Log10`.
pub(super) fn log10(x: f64) -> f64 {
    log(x) * std::f64::consts::LOG10_E
}

/// Go's `math.Log2`: exact for powers of two.
pub(super) fn log2(x: f64) -> f64 {
    let (frac, e) = frexp(x);
    if frac == 0.5 {
        return (e - 1) as f64;
    }
    log(frac) * std::f64::consts::LOG2_E + e as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_and_logs() {
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(5e-324), (0.5, -1073));
        assert_eq!(log2(1024.0), 10.0);
        assert_eq!(log10(1000.0), 3.0);
        assert!((log(10.0) - std::f64::consts::LN_10).abs() < 1e-15);
        assert!(log(-1.0).is_nan());
        assert_eq!(log(0.0), f64::NEG_INFINITY);
    }
}
