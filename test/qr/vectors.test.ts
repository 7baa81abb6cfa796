// Known-answer tests from the Blockchain Commons reference implementation of BCR-2020-005 / BCR-2020-012
// (github.com/BlockchainCommons/bc-ur, test/test.cpp at commit 603c21c7412e0e5ef85d0a5a74b0327667d9a8c2;
// BSD-2-Clause Plus Patent). Messages there are `make_message(n)`: Xoshiro256("Wolf").next_data(n).
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../shared/bytes';
import { decodeMinimal, encodeMinimal } from '../../shared/qr/bytewords';
import { crc32, crc32Bytes } from '../../shared/qr/crc32';
import {
  FountainDecoder,
  FountainEncoder,
  chooseDegree,
  chooseFragments,
  encodePartCbor,
  findNominalFragmentLength,
  partitionMessage,
  shuffled,
} from '../../shared/qr/fountain';
import { RandomSampler } from '../../shared/qr/random-sampler';
import { FrameAssembler, FrameEncoder, encodeFrames } from '../../shared/qr/ur';
import { Xoshiro256 } from '../../shared/qr/xoshiro';
import { codeOf } from './helpers';

const makeMessage = (n: number, seed = 'Wolf'): Uint8Array => new Xoshiro256(utf8(seed)).nextData(n);

describe('BCR-2020-005 reference vectors', () => {
  it('crc32', () => {
    expect(toHex(crc32Bytes(utf8('Hello, world!')))).toBe('ebe6c6e6');
    expect(toHex(crc32Bytes(utf8('Wolf')))).toBe('598c84dc');
    expect(crc32(new Uint8Array())).toBe(0);
  });

  it('bytewords, minimal style', () => {
    const input = new Uint8Array([0, 1, 2, 128, 255]);
    expect(encodeMinimal(input)).toBe('aeadaolazmjendeoti');
    expect(decodeMinimal('aeadaolazmjendeoti')).toEqual(input);
    expect(decodeMinimal('AEADAOLAZMJENDEOTI')).toEqual(input);
    expect(codeOf(() => decodeMinimal('aeadaolazojendeowf'))).toBe('MALFORMED'); // bad checksum
    expect(codeOf(() => decodeMinimal('wf'))).toBe('MALFORMED');
    expect(codeOf(() => decodeMinimal(''))).toBe('MALFORMED');

    const input2 = new Uint8Array([
      245, 215, 20, 198, 241, 235, 69, 59, 209, 205, 165, 18, 150, 158, 116, 135, 229, 212, 19, 159, 17, 37, 239, 240, 253, 11, 109,
      191, 37, 242, 38, 120, 223, 41, 156, 189, 242, 254, 147, 204, 66, 163, 216, 175, 191, 72, 169, 54, 32, 60, 144, 230, 210, 137,
      184, 197, 33, 113, 88, 14, 157, 31, 177, 46, 1, 115, 205, 69, 225, 150, 65, 235, 58, 144, 65, 240, 133, 69, 113, 247, 63, 53,
      242, 165, 160, 144, 26, 13, 79, 237, 133, 71, 82, 69, 254, 165, 138, 41, 85, 24,
    ]);
    const minimal =
      'yktsbbswwnwmfefrttsnonbgmtnnjyltvwtybwnebydawswtzcbdjnrsdawzdsksurdtnsrywzzemusffwottppersfdptencxfnmhvatdldroskcljshdba' +
      'ntctpadmadjksnfevymtfpwmftmhfpwtlpfejsylfhecwzonnbmhcybtgwwelpflgmfezeonledtgocsfzhycypf';
    expect(encodeMinimal(input2)).toBe(minimal);
    expect(decodeMinimal(minimal)).toEqual(input2);
  });

  it('xoshiro256** seeded by SHA-256', () => {
    const rng1 = new Xoshiro256(utf8('Wolf'));
    expect(Array.from({ length: 20 }, () => Number(rng1.next() % 100n))).toEqual([
      42, 81, 85, 8, 82, 84, 76, 73, 70, 88, 2, 74, 40, 48, 77, 54, 88, 7, 5, 88,
    ]);
    const rng2 = new Xoshiro256(crc32Bytes(utf8('Wolf')));
    expect(Array.from({ length: 20 }, () => Number(rng2.next() % 100n))).toEqual([
      88, 44, 94, 74, 0, 99, 7, 77, 68, 35, 47, 78, 19, 21, 50, 15, 42, 36, 91, 11,
    ]);
    const rng3 = new Xoshiro256(utf8('Wolf'));
    expect(Array.from({ length: 20 }, () => rng3.nextInt(1, 10))).toEqual([6, 5, 8, 4, 10, 5, 7, 10, 4, 9, 10, 9, 7, 7, 1, 1, 2, 9, 9, 2]);
    const rng4 = new Xoshiro256(utf8('Wolf'));
    expect(toHex(rng4.nextData(10))).toBe('916ec65cf77cadf55cd7');
    expect(toHex(rng4.nextData(10))).toBe('f9cda1a1030026ddd42e');
  });

  it('random sampler (first 40 of 500 samples)', () => {
    const sampler = new RandomSampler([1, 2, 4, 8]);
    const rng = new Xoshiro256(utf8('Wolf'));
    const samples = Array.from({ length: 40 }, () => sampler.next(() => rng.nextDouble()));
    expect(samples).toEqual([3, 3, 3, 3, 3, 3, 3, 0, 2, 3, 3, 3, 3, 1, 2, 2, 1, 3, 3, 2, 3, 3, 1, 1, 2, 1, 1, 3, 1, 3, 1, 2, 0, 2, 1, 0, 3, 3, 3, 1]);
  });

  it('shuffle', () => {
    const rng = new Xoshiro256(utf8('Wolf'));
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(shuffled(values, rng)).toEqual([6, 4, 9, 3, 10, 5, 7, 8, 1, 2]);
    expect(shuffled(values, rng)).toEqual([10, 8, 6, 5, 1, 2, 3, 9, 7, 4]);
    expect(shuffled(values, rng)).toEqual([6, 4, 5, 8, 9, 3, 2, 1, 7, 10]);
  });

  it('fragment length, partition, degree and fragment choice', () => {
    expect(findNominalFragmentLength(12345, 1005, 1955)).toBe(1764);
    expect(findNominalFragmentLength(12345, 1005, 30000)).toBe(12345);
    const message = makeMessage(1024);
    const fragmentLength = findNominalFragmentLength(message.length, 10, 100);
    const fragments = partitionMessage(message, fragmentLength);
    expect(fragments).toHaveLength(11);
    expect(toHex(fragments[10] ?? new Uint8Array())).toBe(
      '170010067e2e75ebe2d2904aeb1f89d5dc98cd4a6f2faaa8be6d03354c990fd895a97feb54668473e9d942bb99e196d897e8f1b01625cf48a7b78d249bb4985c065aa8cd1402ed2ba1b6f908f63dcd84b66425df00000000000000000000',
    );
    const degrees = Array.from({ length: 20 }, (_, i) => chooseDegree(fragments.length, new Xoshiro256(utf8(`Wolf-${String(i + 1)}`))));
    expect(degrees).toEqual([11, 3, 6, 5, 2, 1, 2, 11, 1, 3, 9, 10, 10, 4, 2, 1, 1, 2, 1, 1]);
    const checksum = crc32(message);
    expect(Array.from({ length: 30 }, (_, i) => chooseFragments(i + 1, fragments.length, checksum))).toEqual([
      [0], [1], [2], [3], [4], [5], [6], [7], [8], [9], [10], [9], [2, 5, 6, 8, 9, 10], [8], [1, 5], [1], [0, 2, 4, 5, 8, 10], [5], [2], [2],
      [0, 1, 3, 4, 5, 7, 9, 10], [0, 1, 2, 3, 5, 6, 8, 9, 10], [0, 2, 4, 5, 7, 8, 9, 10], [3, 5], [4], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      [0, 1, 3, 4, 5, 6, 7, 9, 10], [6], [5, 6], [7],
    ]);
  });

  it('fountain encoder parts as CBOR', () => {
    const encoder = new FountainEncoder(makeMessage(256), 30);
    expect(encoder.seqLen).toBe(9);
    const hex = Array.from({ length: 20 }, (_, i) => toHex(encodePartCbor(encoder.part(i + 1))));
    expect(hex[0]).toBe('8501091901001a0167aa07581d916ec65cf77cadf55cd7f9cda1a1030026ddd42e905b77adc36e4f2d3c');
    expect(hex[8]).toBe('8509091901001a0167aa07581d951e65305b56a3706e3e86eb01c803bbf915d80edcd64d4d0000000000');
    expect(hex[9]).toBe('850a091901001a0167aa07581d330f0f33a05eead4f331df229871bee733b50de71afd2e5a79f196de09');
    expect(hex[14]).toBe('850f091901001a0167aa07581d73f021c0e6f65b05c0a494e50791270a0050a73ae69b6725505a2ec8a5');
    expect(hex[19]).toBe('8514091901001a0167aa07581de055c2433562184fa71b4be94f262e200f01c6f74c284b0dc6fae6673f');
  });

  it('fountain decoder: 32767 bytes from parts 101.. (mixed only)', () => {
    const message = makeMessage(32767);
    const encoder = new FountainEncoder(message, 1000);
    const decoder = new FountainDecoder();
    for (let seq = 101; !decoder.isComplete; seq++) decoder.receive(encoder.part(seq));
    expect(decoder.result).toEqual(message);
  });

  it('single-part and multipart URs', () => {
    const ur50 = 'ur:bytes/hdeymejtswhhylkepmykhhtsytsnoyoyaxaedsuttydmmhhpktpmsrjtgwdpfnsboxgwlbaawzuefywkdplrsrjynbvygabwjldapfcsdwkbrkch';
    expect(encodeFrames(makeMessage(50), { type: 'bytes' })).toEqual([ur50]);
    const single = new FrameAssembler();
    single.add(ur50);
    expect(single.result()).toEqual({ type: 'bytes', payload: makeMessage(50) });

    const encoder = new FrameEncoder(makeMessage(256), { type: 'bytes', maxFragmentLength: 30, singleFrameMaxVersion: 1 });
    const parts = encoder.range(1, 20);
    expect(parts[0]).toBe('ur:bytes/1-9/lpadascfadaxcywenbpljkhdcahkadaemejtswhhylkepmykhhtsytsnoyoyaxaedsuttydmmhhpktpmsrjtdkgslpgh');
    expect(parts[8]).toBe('ur:bytes/9-9/lpasascfadaxcywenbpljkhdcajskecpmdckihdyhphfotjojtfmlnwmadspaxrkytbztpbauotbgtgtaeaevtgavtny');
    expect(parts[11]).toBe('ur:bytes/12-9/lpbnascfadaxcywenbpljkhdcarllaluzmdmgstospeyiefmwejlwtpedamktksrvlcygmzemovovllarodtmtbnptrs');
    expect(parts[19]).toBe('ur:bytes/20-9/lpbbascfadaxcywenbpljkhdcayapmrleeleaxpasfrtrdkncffwjyjzgyetdmlewtkpktgllepfrltataztksmhkbot');
    const assembler = new FrameAssembler({ type: 'bytes' });
    for (const part of parts.slice(4)) assembler.add(part.toUpperCase());
    expect(assembler.result().payload).toEqual(makeMessage(256));
  });
});
