import { codedRefusal } from './stream-server';

describe('codedRefusal: graphql-sse\'s own refusals in this API\'s shape', () => {
  it('gives a bare error list a code and a bounded message', () => {
    const body = JSON.stringify({ errors: [{ message: `Unexpected token ${'x'.repeat(5000)}` }] });
    const out = JSON.parse(codedRefusal(body, 400)!);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0].extensions).toEqual({ code: 'BAD_REQUEST' });
    expect(out.errors[0].message.length).toBe(500);
  });

  it('answers a bodiless 415 and a body that is not JSON with a coded error', () => {
    expect(JSON.parse(codedRefusal(null, 415)!).errors[0]).toMatchObject({ extensions: { code: 'BAD_REQUEST' }, message: expect.stringMatching(/JSON/) });
    expect(JSON.parse(codedRefusal('not json', 406)!).errors[0]).toMatchObject({ message: 'malformed request', extensions: { code: 'BAD_REQUEST' } });
  });

  it('leaves coded refusals (this API\'s own) and successful answers as they are', () => {
    const coded = JSON.stringify({ errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] });
    expect(codedRefusal(coded, 401)).toBe(coded);
    expect(codedRefusal(null, 204)).toBeNull();
    expect(codedRefusal('x', 200)).toBe('x');
  });
});
