test('workspace runs jest', () => expect(1 + 1).toBe(2));
