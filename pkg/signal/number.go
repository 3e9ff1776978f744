package signal

import "strconv"

// Decimal number parsing for the CSV readers. The common case, a decimal with few
// significant digits and a small exponent ("1.414", "-0.123456", "8.8441e+05"), is
// exact in one floating-point operation (Clinger's fast path, as strconv's own
// atof32exact/atof64exact): the mantissa and the power of ten are both exactly
// representable, so one correctly rounded multiply or divide gives the correctly
// rounded result. Everything else goes to strconv.ParseFloat. The results are the same
// as strconv's; the gain is skipping its general scanner (underscores, hex, inf, ...).

var pow10f32 = [...]float32{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10}

var pow10f64 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// scanDecimal splits s = [+-]digits[.digits][(e|E)[+-]digits] into m·10^exp. ok is
// false for anything else, or more than 19 significant digits.
func scanDecimal(s []byte) (m uint64, exp int, neg, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	digits, seen := 0, false
	for ; i < len(s) && isDigit(s[i]); i++ {
		seen = true
		if m == 0 && s[i] == '0' {
			continue
		}
		if digits == 19 {
			return 0, 0, false, false
		}
		m = m*10 + uint64(s[i]-'0')
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isDigit(s[i]); i++ {
			seen = true
			exp--
			if m == 0 && s[i] == '0' {
				continue
			}
			if digits == 19 {
				return 0, 0, false, false
			}
			m = m*10 + uint64(s[i]-'0')
			digits++
		}
	}
	if !seen {
		return 0, 0, false, false
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		i++
		esign := 1
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			if s[i] == '-' {
				esign = -1
			}
			i++
		}
		if i == len(s) {
			return 0, 0, false, false
		}
		e := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			if e < 100000 {
				e = e*10 + int(s[i]-'0')
			}
		}
		exp += esign * e
	}
	return m, exp, neg, i == len(s)
}

// parseFloat32 returns the float32 nearest to the decimal in s, as
// strconv.ParseFloat(s, 32) does, with its errors. It allocates nothing for fields of
// up to 32 bytes.
func parseFloat32(s []byte) (float32, error) {
	if m, e, neg, ok := scanDecimal(s); ok && m < 1<<24 && -10 <= e && e <= 10 {
		f := float32(m)
		if e < 0 {
			f /= pow10f32[-e]
		} else {
			f *= pow10f32[e]
		}
		if neg {
			f = -f
		}
		return f, nil
	}
	v, err := strconv.ParseFloat(string(s), 32)
	return float32(v), err
}

// parseFloat64 is parseFloat32 for float64 (strconv.ParseFloat(s, 64)).
func parseFloat64(s []byte) (float64, error) {
	if m, e, neg, ok := scanDecimal(s); ok && m < 1<<53 && -22 <= e && e <= 22 {
		f := float64(m)
		if e < 0 {
			f /= pow10f64[-e]
		} else {
			f *= pow10f64[e]
		}
		if neg {
			f = -f
		}
		return f, nil
	}
	return strconv.ParseFloat(string(s), 64)
}
