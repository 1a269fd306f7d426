//! Decoded images as they come from a file, before the gray stage.

/// Pixel samples of a decoded image, row-major, channels interleaved.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
}

impl Samples {
    pub fn len(&self) -> usize {
        match self {
            Samples::U8(v) => v.len(),
            Samples::U16(v) => v.len(),
            Samples::F32(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Name of the sample type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Samples::U8(_) => "u8",
            Samples::U16(_) => "u16",
            Samples::F32(_) => "f32",
        }
    }
}

/// A decoded image: `height` rows of `width` pixels of `channels` samples each.
///
/// `channels` is 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).
/// Invariant: `samples.len() == width * height * channels`.
#[derive(Clone, Debug, PartialEq)]
pub struct RawImage {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub samples: Samples,
}

impl RawImage {
    /// A one-channel image. Panics if `data.len() != width * height` (a programming error;
    /// decoded files go through [`crate::io::read_image`], which never panics).
    pub fn gray_u8(width: usize, height: usize, data: Vec<u8>) -> Self {
        assert_eq!(data.len(), width * height);
        RawImage {
            width,
            height,
            channels: 1,
            samples: Samples::U8(data),
        }
    }
    /// A one-channel image. Panics if `data.len() != width * height` (a programming error;
    /// decoded files go through [`crate::io::read_image`], which never panics).
    pub fn gray_u16(width: usize, height: usize, data: Vec<u16>) -> Self {
        assert_eq!(data.len(), width * height);
        RawImage {
            width,
            height,
            channels: 1,
            samples: Samples::U16(data),
        }
    }
    /// A one-channel image. Panics if `data.len() != width * height` (a programming error;
    /// decoded files go through [`crate::io::read_image`], which never panics).
    pub fn gray_f32(width: usize, height: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), width * height);
        RawImage {
            width,
            height,
            channels: 1,
            samples: Samples::F32(data),
        }
    }
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }
}
