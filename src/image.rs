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

/// Borrowed pixel samples: what a caller holding its own buffer (a NumPy array) gives the
/// pipeline without copying it first.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SampleSlice<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    F32(&'a [f32]),
}

impl SampleSlice<'_> {
    pub fn len(&self) -> usize {
        match self {
            SampleSlice::U8(v) => v.len(),
            SampleSlice::U16(v) => v.len(),
            SampleSlice::F32(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A borrowed image, laid out as [`RawImage`] (`samples.len()` should be
/// `width * height * channels`; the pipeline checks it and refuses a mismatch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageView<'a> {
    pub width: usize,
    pub height: usize,
    pub channels: usize,
    pub samples: SampleSlice<'a>,
}

impl ImageView<'_> {
    pub fn pixels(&self) -> usize {
        self.width * self.height
    }
}

impl RawImage {
    /// This image, borrowed.
    pub fn view(&self) -> ImageView<'_> {
        ImageView {
            width: self.width,
            height: self.height,
            channels: self.channels,
            samples: match &self.samples {
                Samples::U8(v) => SampleSlice::U8(v),
                Samples::U16(v) => SampleSlice::U16(v),
                Samples::F32(v) => SampleSlice::F32(v),
            },
        }
    }
}

impl<'a> From<&'a RawImage> for ImageView<'a> {
    fn from(img: &'a RawImage) -> Self {
        img.view()
    }
}
